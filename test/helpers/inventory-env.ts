/** A CollectEnv over a real NodeHost for the inventory collector tests. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createNodeHost } from '../../agent/host/node-host.js';
import type { CollectEnv } from '../../agent/inventory/collector.js';
import type { TrackingConfig } from '../../schemas/index.js';

export function inventoryEnv(dir: string, over: Partial<CollectEnv> = {}): CollectEnv {
  const tmpDir = join(dir, 'inventory-tmp');
  mkdirSync(tmpDir, { recursive: true, mode: 0o700 });
  return {
    host: createNodeHost({ root: '/' }),
    signal: new AbortController().signal,
    tmpDir,
    libvirtUri: 'test:///default',
    procDir: '/proc',
    passwdPath: '/etc/passwd',
    toolTimeoutMs: 60_000,
    killGraceMs: 500,
    now: Date.now,
    ...over,
  };
}

export function trackingConfig(over: Partial<TrackingConfig> = {}): TrackingConfig {
  return { version: '0123456789abcdef', intervalSeconds: 60, virtuals: false, packages: [], services: [], collectors: [], ...over };
}
