/**
 * replaceIdentity: the server refuses this agent's key for good (revoked, or no longer known),
 * so the key is deleted and a new one generated (ADR 0009). The private key goes first: a crash
 * midway leaves either the old state or no key (a new one is generated at the next start),
 * never an old key without its "approved" memory being questioned.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { loadOrCreateIdentity, type AgentIdentity } from './agent-identity.js';

export async function replaceIdentity(dataDir: string): Promise<AgentIdentity> {
  const dir = join(dataDir, 'identity');
  // rm unlinks the name itself: a link planted there is removed, never followed.
  for (const name of ['key.pem', 'key.pub.pem', 'enrollment.json']) await fsp.rm(join(dir, name), { force: true });
  return loadOrCreateIdentity(dataDir);
}
