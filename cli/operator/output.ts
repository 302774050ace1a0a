/**
 * Output of the operator commands. Everything a host or another operator wrote (host names,
 * job output, script names) is made inert before it reaches a terminal: control characters are
 * shown as \xNN, so `\x1b[2J` in a job's output prints as text. JSON keeps every string whole
 * (JSON.stringify escapes C0 controls; DEL and C1 are escaped here too).
 */
import { writeLine, type CliIo } from '../io.js';

/** JSON text with DEL and the C1 controls escaped (JSON.stringify leaves them raw). */
export function jsonText(value: unknown, pretty = false): string {
  return JSON.stringify(value, null, pretty ? 2 : undefined).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function printJson(io: CliIo, value: unknown): void {
  writeLine(io.stdout, jsonText(value, true));
}

/** Text safe on a terminal: control characters but newline and tab shown as \xNN. */
export function inert(s: string): string {
  return s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** One table cell: inert, newlines and tabs escaped too, cut at `max` characters. */
export function cell(v: unknown, max = 48): string {
  const s = v === undefined || v === null ? '-' : typeof v === 'string' ? v : String(v);
  const flat = inert(s).replace(/\n/g, '\\n').replace(/\t/g, '\\t');
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

/**
 * Rows under a header, columns padded to the widest cell (the last column is not padded).
 * `rows` hold raw values; each goes through cell().
 */
export function table(headers: readonly string[], rows: readonly (readonly unknown[])[], max = 48): string[] {
  const cells = rows.map((r) => headers.map((_, i) => cell(r[i], max)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: readonly string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...cells.map(line)];
}

export function printLines(io: CliIo, lines: readonly string[]): void {
  for (const l of lines) writeLine(io.stdout, l);
}
