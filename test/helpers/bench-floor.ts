/**
 * The physical floor the benchmarks measure against (bench:apply, bench:agent): for every
 * managed file, lstat + read + one-shot sha256, in the tightest Node loop, as a sync and as an
 * async loop. Nothing of Stead's in it.
 */
import { hash } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import { lstat, readFile } from 'node:fs/promises';

/** The median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** One synchronous pass over `paths`; milliseconds. */
export function floorSync(paths: readonly string[]): number {
  const t0 = performance.now();
  for (const p of paths) {
    lstatSync(p);
    hash('sha256', readFileSync(p), 'hex');
  }
  return performance.now() - t0;
}

/** One asynchronous pass over `paths`; milliseconds. */
export async function floorAsync(paths: readonly string[]): Promise<number> {
  const t0 = performance.now();
  for (const p of paths) {
    await lstat(p);
    hash('sha256', await readFile(p), 'hex');
  }
  return performance.now() - t0;
}

/** The floor: the faster of a sync and an async pass, median of `repeat`. */
export async function measureFloor(paths: readonly string[], repeat: number): Promise<number> {
  const floors: number[] = [];
  for (let i = 0; i < repeat; i++) floors.push(Math.min(floorSync(paths), await floorAsync(paths)));
  return median(floors);
}
