import t from 'tap';
import { parseTimeBound } from '../../../server/domain/time-bound.js';

t.test('parseTimeBound: ages and ISO times', async (t) => {
  const now = Date.parse('2026-12-07T12:00:00Z');
  t.equal(parseTimeBound('24h', now), now - 86_400_000);
  t.equal(parseTimeBound('90m', now), now - 90 * 60_000);
  t.equal(parseTimeBound('7d', now), now - 7 * 86_400_000);
  t.equal(parseTimeBound('2w', now), now - 14 * 86_400_000);
  t.equal(parseTimeBound('30s', now), now - 30_000);
  t.equal(parseTimeBound('2026-12-01', now), Date.parse('2026-12-01T00:00:00Z'));
  t.equal(parseTimeBound('2026-12-01T10:00:00Z', now), Date.parse('2026-12-01T10:00:00Z'));
  t.equal(parseTimeBound('2026-12-01T10:00:00+02:00', now), Date.parse('2026-12-01T08:00:00Z'));
  for (const bad of ['', 'yesterday', '24', '-1h', '1y', '2026-13-45', '1e9h']) t.equal(parseTimeBound(bad, now), undefined, JSON.stringify(bad));
});
