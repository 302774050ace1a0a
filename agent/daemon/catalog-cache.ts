/**
 * The last catalog the agent received, kept in `<data-dir>/catalog.json` (atomic write,
 * 0600: catalogs may hold rendered secrets). The agent keeps enforcing it while the server is
 * unreachable, and sends its id in If-None-Match.
 */
import { join } from 'node:path';
import type { Catalog } from '../../schemas/index.js';
import { checkCatalog } from '../client/agent-client.js';
import { readFileIfExists, writeFileAtomic } from '../spool/atomic-file.js';

export interface CachedCatalog {
  readonly catalog: Catalog;
  /** RFC 3339 time it was received. */
  readonly receivedAt: string;
}

export class CatalogCache {
  readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, 'catalog.json');
  }

  /**
   * The cached catalog for `host`, or undefined when there is none. A file that no longer passes
   * the schemas (or is for another host) is ignored, as if absent.
   */
  async load(host: string): Promise<CachedCatalog | undefined> {
    const buf = await readFileIfExists(this.path);
    if (!buf) return undefined;
    try {
      const data = JSON.parse(buf.toString('utf8')) as { catalog?: unknown; receivedAt?: unknown };
      if (typeof data.receivedAt !== 'string' || checkCatalog(data.catalog).length > 0) return undefined;
      const catalog = data.catalog as Catalog;
      if (catalog.host !== host) return undefined;
      return { catalog, receivedAt: data.receivedAt };
    } catch {
      return undefined;
    }
  }

  async save(entry: CachedCatalog): Promise<void> {
    await writeFileAtomic(this.path, JSON.stringify(entry), 0o600);
  }
}
