/**
 * Entry: the query cache, the session and the shell. A token kept from before a reload starts
 * the overview's requests at once, beside the session check (GET /v1/session), instead of after
 * it: a reload of the overview draws one round trip sooner. A token that no longer works makes
 * them fail unseen; the login form shows.
 */
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
import { prefetchOverview } from './overview-data';
import { SessionProvider, storedCredentials } from './session';
import './styles.css';

const client = new QueryClient({ defaultOptions: { queries: { staleTime: 5000, retry: 1, refetchOnWindowFocus: false } } });
const kept = storedCredentials();
if (kept && location.pathname === '/') prefetchOverview(client, kept);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={client}>
      <SessionProvider>
        <App />
      </SessionProvider>
    </QueryClientProvider>
  </StrictMode>,
);
