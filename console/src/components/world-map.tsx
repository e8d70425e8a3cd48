/**
 * Vehicles on a world map drawn offline: country shapes from the world-atlas npm package
 * (Natural Earth 1:110m TopoJSON, a chunk of its own, fetched as this module loads), projected
 * with d3-geo. No tile server.
 */
import { geoEqualEarth, geoPath } from 'd3-geo';
import { useEffect, useMemo, useState } from 'react';
import { feature } from 'topojson-client';
import type { FeatureCollection, Geometry } from 'geojson';
import type { Topology } from 'topojson-specification';

export interface MapPoint { id: string; lat: number; lon: number; label: string; href: string }

const W = 800;
const H = 400;

/** The country shapes, asked for as soon as this module loads (not when the map first renders). */
const landLoaded: Promise<FeatureCollection<Geometry>> = import('world-atlas/countries-110m.json').then((m) => {
  const topo = (m as { default: unknown }).default as Topology;
  return feature(topo, topo.objects['countries']!) as unknown as FeatureCollection<Geometry>;
});
let landNow: FeatureCollection<Geometry> | undefined;
void landLoaded.then((l) => (landNow = l));

export function WorldMap({ points, onOpen }: { points: readonly MapPoint[]; onOpen: (p: MapPoint) => void }) {
  const [land, setLand] = useState<FeatureCollection<Geometry> | undefined>(landNow);
  useEffect(() => {
    if (!land) void landLoaded.then(setLand);
  }, [land]);
  const projection = useMemo(() => geoEqualEarth().fitSize([W, H], { type: 'Sphere' }), []);
  const path = useMemo(() => geoPath(projection), [projection]);
  return (
    <svg viewBox={`0 0 ${W} ${H}`} className="map" role="img" aria-label={`Map of ${points.length} vehicles with open incidents`}>
      <path d={path({ type: 'Sphere' }) ?? ''} className="sea" />
      {land?.features.map((f, i) => <path key={i} d={path(f) ?? ''} className="land" />)}
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
