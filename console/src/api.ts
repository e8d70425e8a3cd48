/**
 * The console's only way to the API: fetch with the session's bearer token and the tenant it
 * acts on (X-Vigil-Tenant), JSON in and out, errors as ApiError with the server's message.
 * The types below are the parts of the API answers the pages read (see GET /openapi.json).
 */

export type Severity = 'low' | 'medium' | 'high' | 'critical';
export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];
export type IncidentState = 'new' | 'triaged' | 'investigating' | 'contained' | 'resolved' | 'false_positive';
export const INCIDENT_STATES: readonly IncidentState[] = ['new', 'triaged', 'investigating', 'contained', 'resolved', 'false_positive'];
export const OPEN_STATES: readonly IncidentState[] = ['new', 'triaged', 'investigating', 'contained'];

export interface Alert {
  id: string; tenant: string; vehicle?: string; time: number; detectedAt: number; rule: string; title: string;
  severity: Severity; tags: string[]; details: Record<string, unknown>;
  outcome?: { kind: 'incident' | 'duplicate' | 'suppressed'; ref: string; at: number } | null;
}
export interface Page<T> { items: T[]; total: number; limit: number; offset: number }
export interface Incident {
  id: string; tenant: string; kind: string; title: string; state: IncidentState; severity: Severity; risk: number;
  assignee?: string; tags: string[]; vehicle?: string; rules: string[]; vehicleCount: number; alertCount: number;
  firstAlertAt: number; lastAlertAt: number; createdAt: number; updatedAt: number; slaDueAt?: number; slaBreached: boolean;
  closedAt?: number; context: Record<string, unknown>;
  /** The states the workflow allows it to move to from here (the server's, src/alerts/workflow.ts). */
  allowed: IncidentState[];
}
export interface IncidentEvent { id: string; time: number; actor: string; kind: string; body: Record<string, unknown> }
export interface Session { tokenId: string; name: string; role: string; tokenTenant: string; actingTenant: string; operator: boolean; defaultTenant: string }

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly body?: unknown) {
    super(message);
  }
}

export interface Credentials {
  readonly token: string;
  /** The tenant to act on (operator tokens); absent: the server's default. */
  readonly tenant?: string | undefined;
}

/** Calls the API; throws ApiError on any answer other than 2xx. */
export async function call<T>(cred: Credentials, method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${cred.token}` };
  if (cred.tenant) headers['x-vigil-tenant'] = cred.tenant;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  const json: unknown = text ? safeJson(text) : undefined;
  if (!res.ok) {
    const err = (json ?? {}) as { error?: string; message?: string };
    throw new ApiError(res.status, err.error ?? `HTTP ${res.status}`, err.message ?? (text.slice(0, 200) || res.statusText), json);
  }
  return json as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 200) };
  }
}

/** `?a=1&b=x` from the defined entries of `q`. */
export function qs(q: Record<string, string | number | undefined | null>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

export const fmtTime = (ms: number | undefined | null): string => (ms == null ? '—' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19));
/** `5m ago`, or `in 5m` for a time ahead. */
export const fmtAgo = (ms: number, now = Date.now()): string => {
  const d = Math.round((now - ms) / 1000);
  const s = Math.abs(d);
  const span = s < 60 ? `${s}s` : s < 3600 ? `${Math.round(s / 60)}m` : s < 86_400 ? `${Math.round(s / 3600)}h` : `${Math.round(s / 86_400)}d`;
  return d >= 0 ? `${span} ago` : `in ${span}`;
};
export const ATM_TAG = /^ATM-T\d{4}$/;
