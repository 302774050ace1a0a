/**
 * The real compile worker (server/services/compile-worker.ts), started only once the test lets it:
 * the thread waits for a go-file named after the process (a worker thread shares its process's
 * pid; its environment is empty) before it loads the compiler, a stand-in for a worker that
 * takes long to start on a loaded machine whose length does not depend on the machine's speed.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const nap = new Int32Array(new SharedArrayBuffer(4));
// test/server/services/worker-compiler.test.ts writes the same name (importing this module
// would run the wait below, so the name is not exported).
const go = join(tmpdir(), `stead-slow-start-${process.pid}.go`);
while (!existsSync(go)) Atomics.wait(nap, 0, 0, 20);
await import('../../server/services/compile-worker.js');
