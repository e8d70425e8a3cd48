/**
 * Vehicles on a world map drawn offline: country shapes from the world-atlas npm package
 * (Natural Earth 1:110m TopoJSON, a chunk of its own, fetched as this module loads), projected
 * with d3-geo. No tile server.
 */
import { geoEqualEarth, geoPath } from 'd3-geo';
import { memo, useEffect, useState } from 'react';
import { feature } from 'topojson-client';
import type { FeatureCollection, Geometry } from 'geojson';
import type { Topology } from 'topojson-specification';

export interface MapPoint { id: string; lat: number; lon: number; label: string; href: string }

const W = 800;
const H = 400;

/** The projection: fixed, so each country's outline is projected once, not at every render. */
const projection = geoEqualEarth().fitSize([W, H], { type: 'Sphere' });
const path = geoPath(projection);
const SPHERE = path({ type: 'Sphere' }) ?? '';

/** The countries' outlines as SVG paths, made as soon as this module loads (not when the map first renders). */
const landLoaded: Promise<string[]> = import('world-atlas/countries-110m.json').then((m) => {
  const topo = (m as { default: unknown }).default as Topology;
  const land = feature(topo, topo.objects['countries']!) as unknown as FeatureCollection<Geometry>;
  return land.features.map((f) => path(f) ?? '');
});
let landNow: string[] | undefined;
void landLoaded.then((l) => (landNow = l));

export function WorldMap({ points, onOpen }: { points: readonly MapPoint[]; onOpen: (p: MapPoint) => void }) {
  const [land, setLand] = useState<string[] | undefined>(landNow);
  useEffect(() => {
    if (!land) void landLoaded.then(setLand);
  }, [land]);
  return (
    <svg viewBox={`0 0 ${W} ${H}`} className="map" role="img" aria-label={`Map of ${points.length} vehicles with open incidents`}>
      <path d={SPHERE} className="sea" />
      <Land paths={land} />
      {points.map((p) => {
        const xy = projection([p.lon, p.lat]);
        if (!xy) return null;
        return (
          <a key={p.id} href={p.href} onClick={(e) => { e.preventDefault(); onOpen(p); }} aria-label={p.label}>
            <circle cx={xy[0]} cy={xy[1]} r={5} className="pin"><title>{p.label}</title></circle>
          </a>
        );
      })}
    </svg>
  );
}

/** The countries, drawn again only when their paths change (not at each new pin or counter). */
const Land = memo(function Land({ paths }: { paths: readonly string[] | undefined }) {
  return <>{paths?.map((d, i) => <path key={i} d={d} className="land" />)}</>;
});
