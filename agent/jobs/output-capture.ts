/**
 * Bounded capture of a stream a job script writes (stdout, stderr): the first `headBytes` and
 * the last `tailBytes` are kept, whatever the script prints; what lies between is counted and
 * replaced by one visible marker line. Memory stays at about head + tail + one chunk.
 */

/** Default kept from the start and from the end of each stream. */
export const DEFAULT_HEAD_BYTES = 32 * 1024;
export const DEFAULT_TAIL_BYTES = 32 * 1024;

export interface CapturedText {
  readonly text: string;
  readonly truncated: boolean;
  /** Every byte the stream carried. */
  readonly totalBytes: number;
}

/** "4.2 MB", "812 bytes": a size for the marker line. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} bytes`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(1)} GB`;
}

export class OutputCapture {
  readonly #headMax: number;
  readonly #tailMax: number;
  readonly #head: Buffer[] = [];
  #headLen = 0;
  /** The tail as a ring of chunks whose total is at most tailMax after trimming. */
  #tail: Buffer[] = [];
  #tailLen = 0;
  #total = 0;

  constructor(headBytes = DEFAULT_HEAD_BYTES, tailBytes = DEFAULT_TAIL_BYTES) {
    this.#headMax = headBytes;
    this.#tailMax = tailBytes;
  }

  push(chunk: Buffer): void {
    this.#total += chunk.length;
    let rest = chunk;
    const room = this.#headMax - this.#headLen;
    if (room > 0) {
      const part = rest.subarray(0, room);
      this.#head.push(Buffer.from(part));
      this.#headLen += part.length;
      rest = rest.subarray(part.length);
    }
    if (rest.length === 0 || this.#tailMax === 0) return;
    if (rest.length >= this.#tailMax) {
      this.#tail = [Buffer.from(rest.subarray(rest.length - this.#tailMax))];
      this.#tailLen = this.#tailMax;
      return;
    }
    this.#tail.push(Buffer.from(rest));
    this.#tailLen += rest.length;
    while (this.#tailLen > this.#tailMax) {
      const first = this.#tail[0]!;
      const over = this.#tailLen - this.#tailMax;
      if (first.length <= over) {
        this.#tail.shift();
        this.#tailLen -= first.length;
      } else {
        this.#tail[0] = first.subarray(over);
        this.#tailLen -= over;
      }
    }
  }

  /** The kept text; when bytes were cut, a marker line stands where they were. */
  result(): CapturedText {
    const head = Buffer.concat(this.#head);
    const tail = Buffer.concat(this.#tail);
    const cut = this.#total - head.length - tail.length;
    if (cut <= 0) return { text: Buffer.concat([head, tail]).toString('utf8'), truncated: false, totalBytes: this.#total };
    const before = head.toString('utf8');
    const marker = `${before.endsWith('\n') || before === '' ? '' : '\n'}…[stead: ${formatBytes(cut)} of output cut]…\n`;
    return { text: `${before}${marker}${tail.toString('utf8')}`, truncated: true, totalBytes: this.#total };
  }
}
