/**
 * bench:fleet — 100,000 agents (default) polling every 60 s against one `stead server`
 * process: signed conditional catalog fetches (304s) and a run report per run, open loop,
 * on the embedded store or a MongoDB-wire store; then a publish that changes 10 % of the
 * catalogs while the fleet polls (the download burst); then the floor (a bare node:http 304
 * server at the same rate). Phases and what each measures: test/helpers/fleet-bench-run.ts.
 *
 * Run: npm run bench:fleet -- [--agents N] [--duration S] [--interval S] [--store sqlite|mongo]
 *      [--no-publish] [--drift SHARE] [--sockets N] [--floor S] [--sign ahead|live] [--cpu-prof DIR]
 *      [--server-node-args=--max-semi-space-size=64] (Node.js options for the server, space-separated)
 * --sign ahead (the default) signs the steady state's and the floor's requests before their
 * window so that the simulator's CPU stays out of the server's way (test/helpers/fleet-ahead.ts);
 * --sign live signs each request as it is sent, through the agent's own client.
 * The mongo store needs MONGODB_URL (a MongoDB) or STEAD_FERRETDB (a FerretDB binary, started
 * on its SQLite backend by test/helpers/mongo-wire.ts); without either the bench says so and stops.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runFleetBench } from '../helpers/fleet-bench-run.js';
import { startMongoWire, withDatabase, type MongoWire } from '../helpers/mongo-wire.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = here.includes('/dist/') ? join(here, '..', '..', '..') : join(here, '..', '..');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      agents: { type: 'string', default: '100000' },
      duration: { type: 'string', default: '60' },
      interval: { type: 'string', default: '60' },
      store: { type: 'string', default: 'sqlite' },
      'no-publish': { type: 'boolean', default: false },
      drift: { type: 'string', default: '0.03' },
      sockets: { type: 'string', default: '2000' },
      floor: { type: 'string', default: '30' },
      'warm-concurrency': { type: 'string', default: '64' },
      sign: { type: 'string', default: 'ahead' },
      'cpu-prof': { type: 'string' },
      'server-node-args': { type: 'string' },
    },
  });
  const num = (name: string, v: string | undefined, min: number): number => {
    const n = Number(String(v).replace(/s$/, ''));
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}, got ${v}`);
    return n;
  };
  if (values.sign !== 'ahead' && values.sign !== 'live') throw new Error('--sign must be ahead or live');
  const store = values.store;
  if (store !== 'sqlite' && store !== 'mongo') throw new Error('--store must be sqlite or mongo');
  let wire: MongoWire | undefined;
  let mongodbUrl: string | undefined;
  if (store === 'mongo') {
    if ((process.env['MONGODB_URL'] ?? '') !== '') wire = await startMongoWire('mongodb');
    else if ((process.env['STEAD_FERRETDB'] ?? '') !== '') wire = await startMongoWire('ferretdb-sqlite');
    else {
      process.stdout.write('bench:fleet --store mongo skipped: neither MONGODB_URL nor STEAD_FERRETDB is set (build FerretDB with test/mongo/build-ferretdb.sh)\n');
      return;
    }
    mongodbUrl = withDatabase(wire.url, `stead_fleet_${Date.now()}`);
  }
  try {
    const out = await runFleetBench({
      mainJs: join(root, 'dist', 'cli', 'main.js'),
      agents: Math.floor(num('agents', values.agents, 1)),
      durationS: num('duration', values.duration, 1),
      intervalS: num('interval', values.interval, 1),
      store,
      ...(mongodbUrl !== undefined ? { mongodbUrl } : {}),
      publish: !values['no-publish'],
      driftShare: num('drift', values.drift, 0),
      sockets: Math.floor(num('sockets', values.sockets, 1)),
      signAhead: values.sign === 'ahead',
      warmConcurrency: Math.floor(num('warm-concurrency', values['warm-concurrency'], 1)),
      floorS: num('floor', values.floor, 1),
      ...(values['cpu-prof'] !== undefined ? { cpuProfDir: values['cpu-prof'] } : {}),
      ...(values['server-node-args'] !== undefined ? { serverNodeArgs: values['server-node-args'].split(/\s+/).filter((a) => a !== '') } : {}),
      log: (line) => process.stderr.write(`bench:fleet: ${line}\n`),
    });
    if (wire) out['store'] = wire.kind;
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    await wire?.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:fleet failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
