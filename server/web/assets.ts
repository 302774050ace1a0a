/**
 * The console's static assets: GET /assets/<name>, from an allow-list only (no path is ever
 * built from the request). Our own browser scripts are plain .js files in server/web/assets/
 * (copied beside the compiled module by cli/copy-assets.mjs); vendored libraries are served from
 * node_modules at the exact version package.json pins (uPlot for charts, ADR 0019).
 *
 * Files are read once and kept in memory; answers carry an ETag, a one-hour cache and nosniff.
 * The console's CSP allows scripts from this origin only (`script-src 'self'`): no inline script.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Router } from '@koa/router';
import type { AppState } from '../api/app-state.js';

const require = createRequire(import.meta.url);
const own = (file: string): string => fileURLToPath(new URL(`./assets/${file}`, import.meta.url));

/** name → where it is read from. Add a line for a new asset. */
const sources: Readonly<Record<string, () => string>> = {
  'uplot.iife.min.js': () => require.resolve('uplot/dist/uPlot.iife.min.js'),
  'uplot.min.css': () => require.resolve('uplot/dist/uPlot.min.css'),
  'console.js': () => own('console.js'),
  'dashboard.js': () => own('dashboard.js'),
  'editor.js': () => own('editor.js'),
};

const types: Readonly<Record<string, string>> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

interface Asset {
  readonly body: Buffer;
  readonly etag: string;
  readonly type: string;
}

const cache = new Map<string, Asset>();

function load(name: string): Asset | undefined {
  const hit = cache.get(name);
  if (hit) return hit;
  const source = Object.hasOwn(sources, name) ? sources[name] : undefined;
  if (!source) return undefined;
  const body = readFileSync(source());
  const asset = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`, type: types[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream' };
  cache.set(name, asset);
  return asset;
}

/** Every asset name served (tests and the census). */
export const assetNames: readonly string[] = Object.keys(sources);

export function mountAssets(router: Router<AppState>): void {
  router.get('/assets/:name', (ctx) => {
    ctx.state.routeName = '/assets/:name';
    const asset = load(ctx.params['name'] ?? '');
    if (!asset) {
      ctx.status = 404;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = 'no such asset';
      return;
    }
    ctx.set('ETag', asset.etag);
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.set('X-Content-Type-Options', 'nosniff');
    if (ctx.get('if-none-match') === asset.etag) {
      ctx.status = 304;
      return;
    }
    ctx.type = asset.type;
    ctx.body = asset.body;
  });
}
