/**
 * Jinja2's `loop` variable: index, index0, revindex, revindex0, first, last, length, depth,
 * depth0, previtem, nextitem and cycle(…). One object per iteration (nunjucks would make seven
 * dotted frame.set calls instead); safe-access.ts lets templates read exactly these names.
 */
import { JinjaRuntimeError, PyUndefined } from './py-values.js';

export class LoopContext {
  readonly index: number;
  readonly index0: number;
  readonly revindex: number;
  readonly revindex0: number;
  readonly first: boolean;
  readonly last: boolean;
  readonly length: number;
  readonly depth = 1;
  readonly depth0 = 0;

  constructor(
    private readonly items: readonly unknown[],
    i: number,
  ) {
    const len = items.length;
    this.index = i + 1;
    this.index0 = i;
    this.revindex = len - i;
    this.revindex0 = len - i - 1;
    this.first = i === 0;
    this.last = i === len - 1;
    this.length = len;
  }

  get previtem(): unknown {
    return this.index0 > 0 ? this.items[this.index0 - 1] : new PyUndefined('there is no previous item');
  }

  get nextitem(): unknown {
    return this.index0 + 1 < this.items.length ? this.items[this.index0 + 1] : new PyUndefined('there is no next item');
  }

  cycle(...values: unknown[]): unknown {
    if (values.length === 0) throw new JinjaRuntimeError('no items for cycling given');
    return values[this.index0 % values.length];
  }
}

export const LOOP_ATTRIBUTES = new Set(['index', 'index0', 'revindex', 'revindex0', 'first', 'last', 'length', 'depth', 'depth0', 'previtem', 'nextitem', 'cycle']);
