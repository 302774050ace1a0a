/**
 * Template loading confined to the search paths (security.md T3). nunjucks' FileSystemLoader
 * checks `resolved.indexOf(basePath) === 0` with no separator, so a sibling directory sharing the
 * prefix (`templates2/`) and symlinks leaving the root get through. Here a template name is
 * Jinja2-style (`/`-separated, relative to a search path root) and is refused when it is absolute,
 * contains `..`, a backslash or NUL, or when its real path (symlinks resolved) is not a regular
 * file strictly inside the real path of the root.
 *
 * The loader hands nunjucks the *preprocessed* source (preprocess.ts) and keeps each template's
 * map back to original lines for error messages.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { PreprocessError, preprocess, type Preprocessed, type WhitespaceOptions } from './preprocess.js';
import type { CompiledProps } from './python-compiler.js';

export class LoaderError extends Error {
  constructor(
    message: string,
    readonly kind: 'NOT_FOUND' | 'SECURITY',
  ) {
    super(message);
  }
}

const MAX_TEMPLATE_BYTES = 4 * 1024 * 1024;

/** Validate a template name and split it into path segments (Jinja2's split_template_path, stricter). */
export function templateSegments(name: string): string[] {
  if (name.length === 0) throw new LoaderError('empty template name', 'NOT_FOUND');
  if (name.includes('\0') || name.includes('\\')) throw new LoaderError(`template name ${JSON.stringify(name)} contains a forbidden character`, 'SECURITY');
  if (name.startsWith('/') || isAbsolute(name) || /^[A-Za-z]:/.test(name)) {
    throw new LoaderError(`template name ${JSON.stringify(name)} is absolute; names are relative to the template directory`, 'SECURITY');
  }
  const segs = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segs.some((s) => s === '..')) throw new LoaderError(`template name ${JSON.stringify(name)} leaves the template directory`, 'SECURITY');
  if (segs.length === 0) throw new LoaderError(`template name ${JSON.stringify(name)} names no file`, 'NOT_FOUND');
  return segs;
}

/**
 * Resolve `name` against the roots and read it. Throws LoaderError when it does not exist in any
 * root or resolves (through symlinks) outside its root.
 */
export function readConfined(roots: readonly string[], name: string): { text: string; root: string } {
  const segs = templateSegments(name);
  for (const root of roots) {
    let realRoot: string;
    try {
      realRoot = realpathSync(resolve(root));
    } catch {
      continue;
    }
    const candidate = join(realRoot, ...segs);
    let real: string;
    try {
      real = realpathSync(candidate);
    } catch {
      continue;
    }
    if (!real.startsWith(realRoot + sep)) {
      throw new LoaderError(`template ${JSON.stringify(name)} resolves outside the template directory (symbolic link)`, 'SECURITY');
    }
    const st = statSync(real);
    if (!st.isFile()) continue;
    if (st.size > MAX_TEMPLATE_BYTES) throw new LoaderError(`template ${JSON.stringify(name)} is larger than ${MAX_TEMPLATE_BYTES} bytes`, 'SECURITY');
    return { text: readFileSync(real, 'utf8'), root: realRoot };
  }
  throw new LoaderError(`template ${JSON.stringify(name)} not found`, 'NOT_FOUND');
}

/** True when `name` resolves to a template inside the roots. */
export function templateExists(roots: readonly string[], name: string): boolean {
  try {
    readConfined(roots, name);
    return true;
  } catch {
    return false;
  }
}

/** A nunjucks loader (getSource) over the confined roots, preprocessing Jinja2 to nunjucks. */
export class ConfinedLoader {
  /** nunjucks keeps compiled templates here (it assigns the property itself too). */
  cache: Record<string, unknown> = {};
  private readonly maps = new Map<string, Preprocessed>();

  constructor(
    private readonly roots: readonly string[],
    private readonly ws: WhitespaceOptions,
    /** Compiles preprocessed source (python-compiler.ts compiledProps bound to the environment). */
    private readonly compile: (src: string, name: string) => CompiledProps,
  ) {}

  private lastError: { from: string; err: Error } | undefined;

  getSource(name: string): { src: { type: 'code'; obj: CompiledProps }; path: string; noCache: boolean } | null {
    try {
      let text: string;
      try {
        text = readConfined(this.roots, name).text;
      } catch (err) {
        // nunjucks' protocol for "no such template" (so `ignore missing` works) is a null source.
        if (err instanceof LoaderError && err.kind === 'NOT_FOUND') return null;
        throw err;
      }
      const pre = preprocess(text, this.ws);
      this.maps.set(name, pre);
      let props: CompiledProps;
      try {
        props = this.compile(pre.source, name);
      } catch (err) {
        const e = err as { message?: string; lineno?: number; colno?: number; steadSyntax?: boolean };
        if (!e.steadSyntax) throw err;
        throw new PreprocessError(String(e.message), pre.lineAt(e.lineno ?? 0, e.colno ?? 0), 'SYNTAX');
      }
      // Compiled here (not by nunjucks) so errors are located and the code is shared across renderers.
      return { src: { type: 'code', obj: props }, path: name, noCache: false };
    } catch (err) {
      // nunjucks flattens errors from loaders into strings; keep the original for the renderer.
      this.lastError = { from: name, err: err as Error };
      throw err;
    }
  }

  /** The last error getSource threw, cleared by the call. */
  takeLastError(): { from: string; err: Error } | undefined {
    const e = this.lastError;
    this.lastError = undefined;
    return e;
  }

  /** Line map of a loaded template (or one registered by the renderer), by name. */
  mapFor(name: string): Preprocessed | undefined {
    return this.maps.get(name);
  }

  register(name: string, pre: Preprocessed): void {
    this.maps.set(name, pre);
  }
}
