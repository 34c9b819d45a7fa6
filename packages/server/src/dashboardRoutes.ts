import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * The page may load only what this server serves: no CDN, no inline script, no other origin. uPlot
 * sets sizes through the CSSOM, which `style-src 'self'` allows.
 */
const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The dashboard's own files (`dashboard/` beside `src/` and `dist/`) and uPlot's, read once at start. */
export function loadDashboardAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const add = (path: string, body: Buffer, type: string) => {
    assets.set(path, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  };
  const directory = fileURLToPath(new URL('../dashboard/', import.meta.url));
  for (const name of readdirSync(directory)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    add(name === 'index.html' ? '/' : `/assets/${name}`, readFileSync(join(directory, name)), type);
  }
  // uPlot is served from the installed dependency, so its version is the one the lockfile pins.
  const require = createRequire(import.meta.url);
  add('/assets/uPlot.iife.min.js', readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js')), TYPES['.js']!);
  add('/assets/uPlot.min.css', readFileSync(require.resolve('uplot/dist/uPlot.min.css')), TYPES['.css']!);
  return assets;
}

/** `GET /` and `GET /assets/*`: public (the page holds no data; it asks the API with the user's token). */
export async function registerDashboardRoutes(app: FastifyInstance, assets: Map<string, Asset>): Promise<void> {
  for (const [path, asset] of assets) {
    app.get(path, { config: { public: true } }, async (request, reply) => {
      void reply
        .header('content-type', asset.type)
        .header('etag', asset.etag)
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer');
      if (path === '/') void reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
      if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
      return reply.send(asset.body);
    });
  }
}
