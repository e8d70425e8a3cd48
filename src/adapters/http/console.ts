/**
 * The web console (console/, a React single-page app built by `npm run build:console`) served
 * at `/` by the same server as the API. Hashed assets under `/assets/` are cached for a year;
 * `index.html` is revalidated on every load, so a new build shows at the next reload. Any
 * other GET path outside the API (`/incidents/abc`, a page the browser reloads) answers
 * index.html, whose router draws the page. The API keeps `/v1`, `/health`, `/metrics` and
 * `/openapi.json`: an unknown API path is still a JSON 404.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** The built console, found from this module (src/adapters/http or dist/adapters/http). */
export const CONSOLE_DIST_DIR = fileURLToPath(new URL('../../../console/dist', import.meta.url));

/** Paths that belong to the API: never answered with the console's index.html. */
const API_PATH = /^\/(v1(\/|$)|health$|metrics$|openapi\.json$)/;
const YEAR_S = 365 * 86_400;

export interface ConsoleOptions {
  /** The folder of the built console (default: console/dist of this checkout). */
  readonly root?: string;
}

/** Serves the console at `/`; without a build, `/` says how to make one. */
export async function registerConsole(app: FastifyInstance, opts: ConsoleOptions = {}): Promise<void> {
  const root = opts.root ?? CONSOLE_DIST_DIR;
  const assets = join(root, 'assets');
  // Assets are looked up per request (wildcard), so a rebuild while the server runs is served too.
  const withAssets = existsSync(assets);
  if (withAssets) {
    await app.register(fastifyStatic, {
      root: assets,
      prefix: '/assets/',
      wildcard: true,
      index: false,
      schemaHide: true,
      // Our own cache-control, not send's `public, max-age=0`: the names carry a content hash.
      cacheControl: false,
      setHeaders: (res) => res.setHeader('cache-control', `public, max-age=${YEAR_S}, immutable`),
    });
  }
  app.get('/*', { config: { permission: 'public' }, schema: { hide: true } }, async (req, reply) => {
    const path = req.url.split('?')[0]!;
    if (API_PATH.test(path) || path.startsWith('/assets/')) {
      return reply.status(404).send({ error: 'NotFound', message: `no route ${req.method} ${path}` });
    }
    if (!withAssets || !existsSync(join(root, 'index.html'))) {
      return reply.status(503).type('text/plain; charset=utf-8').send(`The web console is not built (${root}/index.html or assets/ is missing): run npm run build:console, then restart.\nThe API is at /v1 (see /openapi.json).\n`);
    }
    return reply.header('cache-control', 'no-cache').sendFile('index.html', root, { cacheControl: false });
  });
}
