/**
 * Which facts a compile can read, found from the text of everything the compile interprets
 * (manifest and repository YAML, templates), so the cache key of `stead apply` holds those facts
 * and not the ones that move on their own (uptime, free memory, free disk space).
 *
 * Templates reach a variable only by writing its name: compiled Jinja2 looks every variable up
 * by the literal identifier (compiler/jinja/python-compiler.ts), and data is never rendered as a
 * template. So when the identifier `facts` appears nowhere, no fact is read; when every
 * occurrence is a static member access of a top-level fact (`facts.os`, `facts['os']`, `facts["os"]`)
 * only those facts can be read. Anything else — `facts` passed whole, iterated, indexed by an
 * expression, a method (`facts.items()`), a group rule's `facts:` conditions, even a comment —
 * counts as reading every fact: a wrong "not read" would serve a stale catalog, a wrong "read"
 * only costs a compile. YAML's double-quoted escapes can spell a name the bytes do not show
 * (`"{{ f\x61cts }}"`), so a YAML text with an escape that can make a letter (`\x`, `\u`, `\U`,
 * an escaped line break) counts as reading every fact, and an escape right before `facts` counts
 * as a word boundary.
 */

/** Name characters of a Jinja2 identifier (ASCII; the word boundary for `facts`). */
const NAME_CHAR = /[A-Za-z0-9_]/;
const TOKEN = 'facts';
/** A static member access right after the identifier: `.name`, `['name']`, `["name"]`. */
const MEMBER = /^\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*(?:'([^'\\\n]*)'|"([^"\\\n]*)")\s*\])/;

/** A YAML escape that can produce a name character or join two lines. */
const YAML_LETTER_ESCAPE = /\\[xuU\r\n]/;

export interface ScannedText {
  readonly data: Buffer;
  /** YAML (escapes decoded when parsed) rather than a template file (read as written). */
  readonly yaml: boolean;
}

export type FactsRead = { readonly all: true } | { readonly all: false; readonly keys: ReadonlySet<string> };

/** Scans texts (as bytes) for reads of `facts`; `factKeys` are the top-level keys the facts have. */
export function factsRead(texts: Iterable<ScannedText>, factKeys: ReadonlySet<string>): FactsRead {
  const keys = new Set<string>();
  for (const { data: buf, yaml } of texts) {
    if (yaml && buf.includes(0x5c) && YAML_LETTER_ESCAPE.test(buf.toString('latin1'))) return { all: true };
    let at = buf.indexOf(TOKEN);
    while (at >= 0) {
      const escaped = yaml && at > 1 && buf[at - 2] === 0x5c; // "\t" before the name
      const before = at > 0 && !escaped ? String.fromCharCode(buf[at - 1]!) : '';
      const after = at + TOKEN.length < buf.length ? String.fromCharCode(buf[at + TOKEN.length]!) : '';
      if (!NAME_CHAR.test(before) && !NAME_CHAR.test(after)) {
        const tail = buf.subarray(at + TOKEN.length, at + TOKEN.length + 300).toString('utf8');
        const m = MEMBER.exec(tail);
        const name = m ? (m[1] ?? m[2] ?? m[3]) : undefined;
        // A name the facts do not have may be a method (items, get, keys…) that sees them all.
        if (name === undefined || !factKeys.has(name)) return { all: true };
        keys.add(name);
      }
      at = buf.indexOf(TOKEN, at + TOKEN.length);
    }
  }
  return { all: false, keys };
}

/** The part of `facts` a compile can read, as a value to hash (all of it, or the named top-level facts). */
export function factsForKey(facts: unknown, read: FactsRead): unknown {
  if (read.all) return facts;
  const f = (facts ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of [...read.keys].sort()) out[k] = Object.hasOwn(f, k) ? f[k] : '~absent';
  return out;
}
