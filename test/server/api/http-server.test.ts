import t from 'tap';
import { createHttpServer } from '../../../server/api/http-server.js';

const noop = (): void => undefined;

t.test('timeouts are applied to the node server', async (t) => {
  const s = createHttpServer(noop, { headersTimeoutMs: 1000, requestTimeoutMs: 5000, keepAliveTimeoutMs: 2000 });
  t.equal(s.headersTimeout, 1000);
  t.equal(s.requestTimeout, 5000);
  t.equal(s.keepAliveTimeout, 2000);
  const d = createHttpServer(noop);
  t.equal(d.headersTimeout, 15_000, 'default headers timeout 15 s');
  t.equal(d.requestTimeout, 120_000, 'default request timeout 120 s');
  const long = createHttpServer(noop, { headersTimeoutMs: 200_000 });
  t.equal(long.requestTimeout, 200_000, 'the default request timeout is never shorter than the headers timeout');
});

t.test('invalid timeouts are refused', async (t) => {
  t.throws(() => createHttpServer(noop, { headersTimeoutMs: 0 }), RangeError);
  t.throws(() => createHttpServer(noop, { headersTimeoutMs: 1.5 }), RangeError);
  t.throws(() => createHttpServer(noop, { headersTimeoutMs: 5000, requestTimeoutMs: 1000 }), RangeError);
});
