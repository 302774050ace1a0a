/**
 * `git push -o key=value` options of a push to /git/manifests.git, turned into a rollout
 * policy (schemas/api/rollout-policy.ts): `batches=1,10%,100%`, `gate=manual|auto`,
 * `max-failures=N|P%`, `wait-between=S`. A push without `batches` is published at once.
 */
import { rolloutPolicySchema, type RolloutPolicy } from '../../../schemas/api/rollouts.js';
import { compileGuard, type Guard } from '../../../schemas/validate.js';

export type PushRolloutPolicy = RolloutPolicy;
const policyGuard: Guard<PushRolloutPolicy> = compileGuard(rolloutPolicySchema);

/** The policy the push options ask for; undefined without `batches`. Throws Error with a message for the pusher. */
export function policyFromPushOptions(options: readonly string[]): PushRolloutPolicy | undefined {
  const policy: Record<string, unknown> = {};
  for (const raw of options) {
    const eq = raw.indexOf('=');
    const key = (eq < 0 ? raw : raw.slice(0, eq)).trim();
    const value = eq < 0 ? '' : raw.slice(eq + 1).trim();
    switch (key) {
      case 'batches':
        policy['batches'] = value;
        break;
      case 'gate':
        policy['gate'] = value;
        break;
      case 'wait-between':
        if (!/^\d{1,7}$/.test(value)) throw new Error(`push option wait-between=${value.slice(0, 40)}: seconds, a whole number`);
        policy['waitBetweenSeconds'] = Number(value);
        break;
      case 'max-failures': {
        const m = /^(\d{1,7})(%?)$|^(\d{1,3}(?:\.\d+)?)%$/.exec(value);
        if (!m) throw new Error(`push option max-failures=${value.slice(0, 40)}: a count (3) or a percentage (10%)`);
        policy['maxFailures'] = m[1] !== undefined && m[2] === '' ? { count: Number(m[1]) } : { percent: Number(m[1] ?? m[3]) };
        break;
      }
      default:
        throw new Error(`unknown push option ${JSON.stringify(key.slice(0, 40))}: known are batches=, gate=, max-failures=, wait-between=`);
    }
  }
  if (policy['batches'] === undefined) {
    if (Object.keys(policy).length > 0) throw new Error('push options gate=, max-failures= and wait-between= need batches= (e.g. -o batches=1,10%,100%)');
    return undefined;
  }
  const problems = policyGuard.check(policy);
  if (problems.length > 0) throw new Error(`push options do not form a valid rollout policy: ${problems.map((e) => `${e.path} ${e.message}`).join('; ').slice(0, 500)}`);
  return policy as PushRolloutPolicy;
}
