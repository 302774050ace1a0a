/**
 * Progress of a long run on stderr: on a terminal a counter rewritten in place (at most ten
 * times a second); otherwise one line every `every` resources. Small runs print nothing.
 */
export interface Progress {
  tick(id: string): void;
  done(): void;
}

export function createProgress(stream: NodeJS.WritableStream, total: number, opts: { every?: number; minTotal?: number; now?: () => number } = {}): Progress {
  const isTty = (stream as { isTTY?: boolean }).isTTY === true;
  const minTotal = opts.minTotal ?? (isTty ? 50 : 1000);
  const every = opts.every ?? 1000;
  const now = opts.now ?? Date.now;
  let count = 0;
  let lastDraw = 0;
  let drawn = false;
  if (total < minTotal) return { tick: () => undefined, done: () => undefined };
  return {
    tick(id) {
      count++;
      if (isTty) {
        const t = now();
        if (t - lastDraw < 100 && count < total) return;
        lastDraw = t;
        const text = `[${count}/${total}] ${id}`;
        stream.write(`\r\u001b[K${text.length > 100 ? `${text.slice(0, 97)}...` : text}`);
        drawn = true;
      } else if (count % every === 0) {
        stream.write(`progress: ${count}/${total} resources\n`);
      }
    },
    done() {
      if (drawn) stream.write('\r\u001b[K');
    },
  };
}
