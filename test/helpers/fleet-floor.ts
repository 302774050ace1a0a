/**
 * The physical floor bench:fleet measures against: a bare node:http server in its own process
 * that answers every request 304 with an ETag (nothing of Stead's in it: no signature check,
 * no routing, no store), driven by the same simulator at the same rate.
 */
import { spawn } from 'node:child_process';

const script = `
const http = require('node:http');
const s = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(304, { etag: '"floor"' }); res.end(); });
});
s.keepAliveTimeout = 75000;
s.listen(0, '127.0.0.1', () => process.stdout.write('listening ' + s.address().port + '\\n'));
`;

/** Starts the floor server; resolves its URL, pid and a stop function. */
export async function startFloor(): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const m = /listening (\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (c) => reject(new Error(`floor server exited ${c}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
