import t from 'tap';
import { aptProvider, pickPackageProvider, type PackageFacts } from '../../../agent/providers/apt.js';
import { pickServiceProvider, type ServiceFacts } from '../../../agent/providers/pick-service-provider.js';
import { processServiceProvider } from '../../../agent/providers/process-service.js';
import { systemdServiceProvider } from '../../../agent/providers/systemd.js';
import { ProviderError } from '../../../agent/providers/types.js';

t.test('pickPackageProvider', async (t) => {
  const table: [PackageFacts, string][] = [
    [{ requested: undefined, hasDpkg: true, hasRpm: false }, 'apt'],
    [{ requested: 'apt', hasDpkg: true, hasRpm: false }, 'apt'],
    [{ requested: undefined, hasDpkg: true, hasRpm: true }, 'apt'],
    [{ requested: 'apt', hasDpkg: false, hasRpm: true }, 'NO_PROVIDER: provider apt was requested'],
    [{ requested: undefined, hasDpkg: false, hasRpm: true }, 'NO_PROVIDER: this host uses rpm; the rpm/dnf'],
    [{ requested: undefined, hasDpkg: false, hasRpm: false }, 'NO_PROVIDER: no package provider fits'],
  ];
  for (const [facts, want] of table) {
    const got = pickPackageProvider(facts);
    const text = got instanceof ProviderError ? `${got.code}: ${got.message}` : got.name;
    t.ok(text.startsWith(want), `${JSON.stringify(facts)} → ${text}`);
  }
  t.equal(pickPackageProvider({ requested: undefined, hasDpkg: true, hasRpm: false }), aptProvider);
});

t.test('pickServiceProvider', async (t) => {
  const table: [ServiceFacts, string][] = [
    [{ requested: undefined, confined: false, systemdBooted: true }, 'systemd'],
    [{ requested: undefined, confined: false, systemdBooted: false }, 'process'],
    [{ requested: undefined, confined: true, systemdBooted: true }, 'process'],
    [{ requested: undefined, confined: true, systemdBooted: false }, 'process'],
    [{ requested: 'process', confined: false, systemdBooted: true }, 'process'],
    [{ requested: 'process', confined: true, systemdBooted: false }, 'process'],
    [{ requested: 'systemd', confined: false, systemdBooted: true }, 'systemd'],
    [{ requested: 'systemd', confined: false, systemdBooted: false }, 'NO_PROVIDER'],
    [{ requested: 'systemd', confined: true, systemdBooted: true }, 'UNSUPPORTED'],
  ];
  for (const [facts, want] of table) {
    const got = pickServiceProvider(facts);
    t.equal(got instanceof ProviderError ? got.code : got.name, want, JSON.stringify(facts));
  }
  t.equal(pickServiceProvider(table[0]![0]), systemdServiceProvider);
  t.equal(pickServiceProvider(table[1]![0]), processServiceProvider);
});
