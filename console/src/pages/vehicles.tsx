/** The fleet's vehicles (GET /v1/vehicles), a page at a time. */
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { call, fmtAgo, qs } from '../api';
import { useCred } from '../session';

interface VehicleRow { id: string; make?: string; model?: string; year?: number; region?: string; lastSeen?: number; signalCount?: number }
const PAGE = 100;

export function VehiclesPage() {
  const cred = useCred();
  const [offset, setOffset] = useState(0);
  const q = useQuery({ queryKey: ['vehicles', cred.tenant, offset], queryFn: () => call<{ items: VehicleRow[]; more: boolean }>(cred, 'GET', `/v1/vehicles${qs({ limit: PAGE, offset })}`) });
  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Vehicles</h1>
      {q.error && <p role="alert" className="error">{(q.error as Error).message}</p>}
      <table className="plain" aria-label="Vehicles">
        <thead><tr><th>Vehicle</th><th>Make</th><th>Model</th><th>Year</th><th>Region</th><th>Signals</th><th>Last seen</th></tr></thead>
        <tbody>
          {q.data?.items.map((v) => (
            <tr key={v.id}>
              <td><Link className="mono" to={`/vehicles/${v.id}`}>{v.id}</Link></td>
              <td>{v.make ?? '—'}</td><td>{v.model ?? '—'}</td><td>{v.year ?? '—'}</td><td>{v.region ?? '—'}</td>
              <td>{v.signalCount?.toLocaleString() ?? '—'}</td><td>{v.lastSeen ? fmtAgo(v.lastSeen) : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="row">
        <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>Previous</button>
        <span className="muted">{offset + 1}–{offset + (q.data?.items.length ?? 0)}</span>
        <button type="button" disabled={!q.data?.more} onClick={() => setOffset(offset + PAGE)}>Next</button>
      </div>
    </section>
  );
}
