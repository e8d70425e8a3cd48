/**
 * New alerts, live: GET /v1/alerts/stream as server-sent events, read with fetch (EventSource
 * cannot send the Authorization header) and parsed by eventsource-parser. Reconnects after
 * 3 s with Last-Event-ID, so the server sends what was missed. Each alert refreshes the
 * queries that show incidents and counts (at most once a second); the alert queue watches
 * `count` itself.
 */
import { useQueryClient } from '@tanstack/react-query';
import { createParser } from 'eventsource-parser';
import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import type { Alert, Credentials } from './api';

interface Live {
  /** Alerts received since the console opened (or the tenant changed), newest first, at most 200. */
  readonly recent: readonly Alert[];
  /** How many arrived since the console opened. */
  readonly count: number;
  readonly connected: boolean;
}

const Ctx = createContext<Live>({ recent: [], count: 0, connected: false });
const KEEP = 200;
const RETRY_MS = 3000;

export function LiveProvider({ cred, children }: { cred: Credentials; children: ReactNode }) {
  const [state, setState] = useState<Live>({ recent: [], count: 0, connected: false });
  const client = useQueryClient();
  const pending = useRef<number | undefined>(undefined);

  useEffect(() => {
    const abort = new AbortController();
    let lastId: string | undefined;
    setState({ recent: [], count: 0, connected: false });
    const refresh = () => {
      if (pending.current !== undefined) return;
      pending.current = window.setTimeout(() => {
        pending.current = undefined;
        // The alert queue refreshes itself (pages/alerts.tsx): it may hold many pages.
        for (const key of ['incidents', 'status', 'overview']) void client.invalidateQueries({ queryKey: [key] });
      }, 1000);
    };
    const run = async (): Promise<void> => {
      while (!abort.signal.aborted) {
        try {
          const headers: Record<string, string> = { authorization: `Bearer ${cred.token}`, accept: 'text/event-stream' };
          if (cred.tenant) headers['x-vigil-tenant'] = cred.tenant;
          if (lastId) headers['last-event-id'] = lastId;
          const res = await fetch('/v1/alerts/stream', { headers, signal: abort.signal });
          if (!res.ok || !res.body) throw new Error(`alert stream: HTTP ${res.status}`);
          setState((s) => ({ ...s, connected: true }));
          const parser = createParser({
            onEvent: (ev) => {
              if (ev.event !== 'alert') return;
              if (ev.id) lastId = ev.id;
              const alert = JSON.parse(ev.data) as Alert;
              setState((s) => ({ connected: true, count: s.count + 1, recent: [alert, ...s.recent].slice(0, KEEP) }));
              refresh();
            },
          });
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            parser.feed(value);
          }
        } catch {
          // Reconnect below, unless the page closed the stream.
        }
        if (abort.signal.aborted) return;
        setState((s) => ({ ...s, connected: false }));
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    };
    void run();
    return () => abort.abort();
  }, [cred.token, cred.tenant, client]);

  return <Ctx.Provider value={state}>{children}</Ctx.Provider>;
}

export function useLive(): Live {
  return useContext(Ctx);
}
