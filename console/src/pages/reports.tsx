/**
 * Reports: the vulnerability and threat-intelligence bulletin (GET /v1/reports/bulletin) for a
 * period, previewed as HTML in a sandboxed frame and downloaded as HTML or PDF. The download is
 * fetched with the session's token (a plain link could not carry it) and saved from a blob.
 */
import { useState, type FormEvent } from 'react';
import { ApiError } from '../api';
import { useCred } from '../session';

const DAY = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function ReportsPage() {
  const cred = useCred();
  const [from, setFrom] = useState(day(Date.now() - 30 * DAY));
  const [to, setTo] = useState(day(Date.now() + DAY));
  const [preview, setPreview] = useState<string | undefined>();
  const [busy, setBusy] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();

  const fetchBulletin = async (format: 'html' | 'pdf'): Promise<{ blob: Blob; name: string }> => {
    const headers: Record<string, string> = { authorization: `Bearer ${cred.token}` };
    if (cred.tenant) headers['x-vigil-tenant'] = cred.tenant;
    const res = await fetch(`/v1/reports/bulletin?from=${from}&to=${to}&format=${format}`, { headers });
    if (!res.ok) {
      const body = (await res.json().catch(() => ({}))) as { error?: string; message?: string };
      throw new ApiError(res.status, body.error ?? `HTTP ${res.status}`, body.message ?? res.statusText, body);
    }
    const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? `vigil-bulletin.${format}`;
    return { blob: await res.blob(), name };
  };
  const run = async (what: string, f: () => Promise<void>) => {
    setBusy(what);
    setError(undefined);
    try {
      await f();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(undefined);
    }
  };
  const show = (e: FormEvent) => {
    e.preventDefault();
    void run('preview', async () => setPreview(await (await fetchBulletin('html')).blob.text()));
  };
  const download = (format: 'html' | 'pdf') => run(format, async () => {
    const { blob, name } = await fetchBulletin(format);
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });

  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Reports</h1>
      <form className="card filters" onSubmit={show} aria-label="Bulletin period">
        <strong>Vulnerability and threat-intelligence bulletin</strong>
        <label>From <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} required /></label>
        <label>To (exclusive) <input type="date" value={to} onChange={(e) => setTo(e.target.value)} required /></label>
        <button type="submit" disabled={!!busy}>{busy === 'preview' ? 'Generating…' : 'Generate'}</button>
        <button type="button" className="ghost" disabled={!!busy} onClick={() => void download('html')}>{busy === 'html' ? 'Downloading…' : 'Download HTML'}</button>
        <button type="button" className="ghost" disabled={!!busy} onClick={() => void download('pdf')}>{busy === 'pdf' ? 'Printing…' : 'Download PDF'}</button>
      </form>
      {error && <p role="alert" className="error">{error}</p>}
      {preview !== undefined && <iframe className="report" title="Bulletin preview" sandbox="" srcDoc={preview} />}
    </section>
  );
}
