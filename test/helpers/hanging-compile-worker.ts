/**
 * The real compile worker (server/services/compile-worker.ts), except that compiling a host whose
 * name starts with "hang" never returns: a stand-in for a runaway compile whose length does not
 * depend on the machine's speed, so a test can assert what its deadline does to the others.
 * The real worker's listener is registered first; this one then blocks the thread for good.
 */
import { parentPort } from 'node:worker_threads';

await import('../../server/services/compile-worker.js');
parentPort!.on('message', (m: { op?: string; host?: string }) => {
  if (m.op === 'compile' && m.host?.startsWith('hang')) for (;;);
});
