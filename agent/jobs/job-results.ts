/**
 * The private results channel between a job script and the agent (fd 3, written by the helper
 * libraries in lib/). A stream of records, each a header line and a value of a stated length:
 *
 *     result <key> <length>\n<value bytes>\n
 *     fail - <length>\n<message bytes>\n
 *
 * so values may hold any bytes, newlines included. Nothing is parsed from stdout. Bounds: at most
 * 256 keys (the wire contract's), keys as the contract's pattern, values up to 64 KiB; the
 * message up to 4 KiB. A malformed record ends parsing (what came before it is kept).
 */

export interface ParsedResults {
  readonly results: Record<string, string>;
  /** The message of stead_fail / stead.fail, when the script called it. */
  readonly failMessage?: string;
  /** Why some of the channel was ignored (bounds, malformed), for the result's message. */
  readonly problems: readonly string[];
}

export const MAX_RESULT_KEYS = 256;
export const MAX_RESULT_VALUE = 65536;
const MAX_MESSAGE = 4096;
const KEY = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;
const HEADER = /^(result|fail) (\S{1,200}) (\d{1,9})$/;

export function parseResults(data: Buffer, truncated = false): ParsedResults {
  const results: Record<string, string> = Object.create(null) as Record<string, string>;
  let count = 0;
  let failMessage: string | undefined;
  const problems: string[] = [];
  if (truncated) problems.push('the results channel exceeded its size limit; the rest was dropped');
  let pos = 0;
  while (pos < data.length) {
    const nl = data.indexOf(0x0a, pos);
    if (nl < 0 || nl - pos > 256) {
      if (!truncated) problems.push('the results channel holds a malformed record; the rest was ignored');
      break;
    }
    const m = HEADER.exec(data.subarray(pos, nl).toString('utf8'));
    const len = m ? Number(m[3]) : -1;
    if (!m || nl + 1 + len + 1 > data.length || data[nl + 1 + len] !== 0x0a) {
      if (!truncated || m === null) problems.push('the results channel holds a malformed record; the rest was ignored');
      break;
    }
    const value = data.subarray(nl + 1, nl + 1 + len).toString('utf8');
    pos = nl + 1 + len + 1;
    if (m[1] === 'fail') {
      failMessage = value.length > MAX_MESSAGE ? value.slice(0, MAX_MESSAGE) : value;
      continue;
    }
    const key = m[2]!;
    if (!KEY.test(key)) {
      problems.push(`result key ${JSON.stringify(key.slice(0, 64))} is not a valid name (letters, digits, "_", ".", "-"); ignored`);
      continue;
    }
    if (len > MAX_RESULT_VALUE) {
      problems.push(`result ${key} is longer than ${MAX_RESULT_VALUE} bytes; ignored`);
      continue;
    }
    if (!(key in results)) {
      if (count >= MAX_RESULT_KEYS) {
        problems.push(`more than ${MAX_RESULT_KEYS} result keys; ${key} and later new keys ignored`);
        continue;
      }
      count++;
    }
    results[key] = value;
  }
  return { results: { ...results }, ...(failMessage !== undefined ? { failMessage } : {}), problems: [...new Set(problems)] };
}
