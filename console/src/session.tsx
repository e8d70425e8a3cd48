/**
 * The login session: the token (sessionStorage, so it ends with the browser tab), who it is
 * (GET /v1/session) and the tenant the console acts on (operators may switch).
 */
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { call, type Credentials, type Session } from './api';

const TOKEN_KEY = 'vigil.token';
const TENANT_KEY = 'vigil.tenant';

/** The token and tenant kept from before a reload, unchecked (restore() checks them). */
export function storedCredentials(): Credentials | undefined {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { token, tenant: sessionStorage.getItem(TENANT_KEY) ?? undefined } : undefined;
}

interface SessionState {
  readonly cred: Credentials | undefined;
  readonly session: Session | undefined;
  login(token: string): Promise<void>;
  logout(): void;
  setTenant(tenant: string): Promise<void>;
  /** Called once at start: checks a token kept from before the reload. */
  restore(): Promise<void>;
}

const Ctx = createContext<SessionState | undefined>(undefined);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [cred, setCred] = useState<Credentials | undefined>(undefined);
  const [session, setSession] = useState<Session | undefined>(undefined);

  const open = useCallback(async (c: Credentials) => {
    const s = await call<Session>(c, 'GET', '/v1/session');
    const withTenant = { token: c.token, tenant: s.operator ? s.actingTenant : undefined };
    sessionStorage.setItem(TOKEN_KEY, c.token);
    if (withTenant.tenant) sessionStorage.setItem(TENANT_KEY, withTenant.tenant);
    setCred(withTenant);
    setSession(s);
  }, []);

  const value = useMemo<SessionState>(() => ({
    cred,
    session,
    login: (token) => open({ token: token.trim() }),
    logout: () => {
      sessionStorage.removeItem(TOKEN_KEY);
      sessionStorage.removeItem(TENANT_KEY);
      setCred(undefined);
      setSession(undefined);
    },
    setTenant: async (tenant) => {
      if (cred) await open({ token: cred.token, tenant });
    },
    restore: async () => {
      const token = sessionStorage.getItem(TOKEN_KEY);
      if (!token) return;
      await open({ token, tenant: sessionStorage.getItem(TENANT_KEY) ?? undefined }).catch(() => sessionStorage.removeItem(TOKEN_KEY));
    },
  }), [cred, session, open]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSession(): SessionState {
  const s = useContext(Ctx);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

/** The credentials of a logged-in page (pages render only after login). */
export function useCred(): Credentials {
  const { cred } = useSession();
  if (!cred) throw new Error('useCred before login');
  return cred;
}
