/** The shell: login, then the navigation, tenant switch, theme toggle and the pages. */
import { lazy, Suspense, useEffect, useState, type FormEvent } from 'react';
import { BrowserRouter, NavLink, Navigate, Route, Routes } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { call } from './api';
import { LiveProvider, useLive } from './live';
import { useCred, useSession } from './session';
import { useTheme } from './theme';

// Every page is a chunk of its own, fetched when first opened; the overview's as this module
// loads (main.tsx), in parallel with the session check, since most visits start there.
export const overviewChunk = import('./pages/overview');
const OverviewPage = lazy(() => overviewChunk.then((m) => ({ default: m.OverviewPage })));
const AlertsPage = lazy(() => import('./pages/alerts').then((m) => ({ default: m.AlertsPage })));
const DetectionsPage = lazy(() => import('./pages/detections').then((m) => ({ default: m.DetectionsPage })));
const IncidentPage = lazy(() => import('./pages/incident').then((m) => ({ default: m.IncidentPage })));
const IncidentsPage = lazy(() => import('./pages/incidents').then((m) => ({ default: m.IncidentsPage })));
const VehiclePage = lazy(() => import('./pages/vehicle').then((m) => ({ default: m.VehiclePage })));
const AskPage = lazy(() => import('./pages/ask').then((m) => ({ default: m.AskPage })));
const IntelPage = lazy(() => import('./pages/intel').then((m) => ({ default: m.IntelPage })));
const ReportsPage = lazy(() => import('./pages/reports').then((m) => ({ default: m.ReportsPage })));
const VehiclesPage = lazy(() => import('./pages/vehicles').then((m) => ({ default: m.VehiclesPage })));

export function App() {
  const { session, restore } = useSession();
  const [ready, setReady] = useState(false);
  const [theme, toggleTheme] = useTheme();
  useEffect(() => {
    void restore().finally(() => setReady(true));
  }, []);
  if (!ready) return null;
  return (
    <BrowserRouter>
      {session ? <Shell theme={theme} toggleTheme={toggleTheme} /> : <Login theme={theme} toggleTheme={toggleTheme} />}
    </BrowserRouter>
  );
}

function ThemeButton({ theme, toggle }: { theme: string; toggle: () => void }) {
  return (
    <button type="button" className="ghost" onClick={toggle} aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}>
      {theme === 'dark' ? '☀ Light' : '☾ Dark'}
    </button>
  );
}

function Login({ theme, toggleTheme }: { theme: string; toggleTheme: () => void }) {
  const { login } = useSession();
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await login(token);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="login">
      <form onSubmit={submit} className="card login-card" aria-labelledby="login-title">
        <h1 id="login-title">Vigil console</h1>
        <p className="muted">Log in with an API token. The demo prints where its operator token is; more with <code>vigil token create</code>.</p>
        <label htmlFor="token">API token</label>
        <input id="token" name="token" type="password" autoComplete="off" autoFocus value={token} onChange={(e) => setToken(e.target.value)} placeholder="vgl_…" required />
        {error && <p role="alert" className="error">{error}</p>}
        <div className="row">
          <button type="submit" disabled={busy || !token.trim()}>{busy ? 'Checking…' : 'Log in'}</button>
          <ThemeButton theme={theme} toggle={toggleTheme} />
        </div>
      </form>
    </main>
  );
}

const NAV: { to: string; label: string; soon?: boolean }[] = [
  { to: '/', label: 'Overview' },
  { to: '/alerts', label: 'Alerts' },
  { to: '/incidents', label: 'Incidents' },
  { to: '/vehicles', label: 'Vehicles' },
  { to: '/detections', label: 'Detections' },
  { to: '/intel', label: 'Intel' },
  { to: '/ask', label: 'Ask' },
  { to: '/reports', label: 'Reports' },
];

function Shell({ theme, toggleTheme }: { theme: string; toggleTheme: () => void }) {
  const cred = useCred();
  return (
    <LiveProvider cred={cred}>
      <a href="#main" className="skip">Skip to content</a>
      <header className="top">
        <span className="brand">Vigil</span>
        <nav aria-label="Pages">
          {NAV.map((n) => (
            <NavLink key={n.to} to={n.to} end={n.to === '/'} className={({ isActive }) => (isActive ? 'active' : '') + (n.soon ? ' soon' : '')} title={n.soon ? 'not yet available: the API is not there yet' : undefined}>
              {n.label}
            </NavLink>
          ))}
        </nav>
        <div className="spacer" />
        <LiveBadge />
        <TenantSwitch />
        <ThemeButton theme={theme} toggle={toggleTheme} />
        <UserMenu />
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p className="muted">loading…</p>}>
        <Routes key={cred.tenant ?? ''}>
          <Route path="/" element={<OverviewPage />} />
          <Route path="/alerts" element={<AlertsPage />} />
          <Route path="/incidents" element={<IncidentsPage />} />
          <Route path="/incidents/:id" element={<IncidentPage />} />
          <Route path="/vehicles" element={<VehiclesPage />} />
          <Route path="/vehicles/:id" element={<VehiclePage />} />
          <Route path="/detections" element={<DetectionsPage />} />
          <Route path="/intel" element={<IntelPage />} />
          <Route path="/ask" element={<AskPage />} />
          <Route path="/reports" element={<ReportsPage />} />
          <Route path="*" element={<Navigate to="/" replace />} />
        </Routes>
        </Suspense>
      </main>
    </LiveProvider>
  );
}

function LiveBadge() {
  const live = useLive();
  return (
    <span className={`live ${live.connected ? 'on' : 'off'}`} role="status" aria-live="polite" data-testid="live-count">
      <span className="dot" aria-hidden="true" /> {live.connected ? 'live' : 'offline'} · {live.count} new
    </span>
  );
}

function TenantSwitch() {
  const { session, setTenant, cred } = useSession();
  const [value, setValue] = useState(session?.actingTenant ?? '');
  const [error, setError] = useState<string | undefined>();
  const tokens = useQuery({
    queryKey: ['tokens-tenants'],
    enabled: !!session?.operator && session.role === 'admin',
    queryFn: () => call<{ items: { tenant: string }[] }>({ token: cred!.token }, 'GET', '/v1/tokens?limit=1000'),
  });
  if (!session) return null;
  if (!session.operator) return <span className="tenant" title="this token belongs to one tenant">tenant {session.actingTenant}</span>;
  const known = [...new Set([session.defaultTenant, session.actingTenant, ...(tokens.data?.items.map((t) => t.tenant) ?? [])])].filter((t) => t !== '*').sort();
  return (
    <form className="tenant" onSubmit={(e) => { e.preventDefault(); setTenant(value.trim()).then(() => setError(undefined), (err: Error) => setError(err.message)); }}>
      <label htmlFor="tenant-switch">Tenant</label>
      <input id="tenant-switch" list="tenant-list" value={value} onChange={(e) => setValue(e.target.value)} size={10} aria-invalid={!!error} title={error} />
      <datalist id="tenant-list">{known.map((t) => <option key={t} value={t} />)}</datalist>
      <button type="submit" className="ghost">Switch</button>
    </form>
  );
}

function UserMenu() {
  const { session, logout } = useSession();
  return (
    <span className="user">
      <span title={`token ${session?.tokenId}`}>{session?.name} ({session?.role})</span>
      <button type="button" className="ghost" onClick={logout}>Log out</button>
    </span>
  );
}
