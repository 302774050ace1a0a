/**
 * The Jinja2-compatible renderer: the API the catalog compiler and `stead render` use.
 *
 * Templates render the way Ansible renders Jinja2: trim_blocks=True, lstrip_blocks=False,
 * keep_trailing_newline=False with the template's trailing newlines restored afterwards, the
 * `#jinja2:` first-line overrides, None printed as '', undefined variables an error naming the
 * template, line and variable. Underneath is nunjucks 3.2.4 with a Jinja2 preprocessor
 * (preprocess.ts), a compiler emitting Python semantics (python-compiler.ts, python-runtime.ts)
 * and a loader confined to the search paths (confined-loader.ts).
 *
 * Templates are operator code, but the renderer is still built as a boundary: no template can
 * reach JS internals (safe-access.ts), load files outside the search paths, or run unbounded in
 * output size or loop iterations. CPU time and memory are bounded only by rendering in a child
 * process (sandbox.ts), which is what the server does.
 *
 * Rendering is synchronous and not re-entrant per Renderer (one budget per render).
 */
import nunjucks from 'nunjucks';
import { ConfinedLoader, LoaderError, readConfined, templateExists } from './confined-loader.js';
import { ANSIBLE_WHITESPACE, PreprocessError, parseHeader, preprocess, type Preprocessed, type WhitespaceOptions } from './preprocess.js';
import { compiledProps, installPythonCompiler, type CompiledProps } from './python-compiler.js';
import { DEFAULT_LIMITS, PythonRuntime, type RenderLimits } from './python-runtime.js';
import { copyPlain, takeLastRuntimeError } from './py-values.js';
import { TemplateError, type TemplateErrorKind } from './template-error.js';

export { TemplateError } from './template-error.js';
export type { RenderLimits } from './python-runtime.js';

export interface Renderer {
  /** Render Jinja2 source; `name` is shown in errors. */
  renderString(source: string, vars: Record<string, unknown>, name: string): string;
  /** Render a template file named relative to the search paths. */
  renderFile(relPath: string, vars: Record<string, unknown>): string;
  /**
   * Parse and compile Jinja2 source without rendering it (the editor's as-you-type check):
   * throws the TemplateError a render would throw for a syntax error or a refused construct,
   * with its line. Includes and undefined names are only found by rendering.
   */
  check(source: string, name: string): void;
}

export interface RendererOptions {
  /** Directories templates (and their includes/imports) are loaded from, in order. */
  searchPaths: string[];
  /** Per-render limits; defaults in DEFAULT_LIMITS. */
  limits?: Partial<RenderLimits>;
}


interface EnvEntry {
  env: nunjucks.Environment;
  loader: ConfinedLoader;
  runtime: PythonRuntime;
}

const MAX_CACHED = 512;

function countTrailingNewlines(s: string): number {
  let n = 0;
  for (let i = s.length - 1; i >= 0 && s[i] === '\n'; i--) n++;
  return n;
}

export function createRenderer(opts: RendererOptions): Renderer {
  installPythonCompiler();
  const limits: RenderLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const roots = [...opts.searchPaths];
  const envs = new Map<string, EnvEntry>();
  const compiled = new Map<string, { tmpl: nunjucks.Template; pre: Preprocessed }>();

  const envFor = (ws: WhitespaceOptions): EnvEntry => {
    const key = `${ws.trimBlocks}/${ws.lstripBlocks}/${ws.keepTrailingNewline}`;
    let e = envs.get(key);
    if (e) return e;
    let envRef: nunjucks.Environment | undefined;
    const compile = (src: string, name: string): CompiledProps => compiledProps(src, name, envRef as unknown as Parameters<typeof compiledProps>[2]);
    const loader = new ConfinedLoader(roots, ws, compile);
    const runtime = new PythonRuntime(limits);
    const env = new nunjucks.Environment(loader as unknown as nunjucks.ILoader, {
      autoescape: false,
      throwOnUndefined: false,
      trimBlocks: false,
      lstripBlocks: false,
      dev: true,
      steadJinja: true,
    } as nunjucks.ConfigureOptions);
    envRef = env;
    (env as unknown as { py: PythonRuntime }).py = runtime;
    // Compile included/imported templates eagerly: nunjucks reports a lazy compile error through
    // an asynchronous callback, which a synchronous render would lose.
    const getTemplate = env.getTemplate.bind(env) as (...a: unknown[]) => unknown;
    // A list of names (`{% include ['a.j2', 'b.j2'] %}`) means the first one that exists, as in Jinja2.
    (env as unknown as { getTemplate: (...a: unknown[]) => unknown }).getTemplate = (name: unknown, _eager: unknown, ...rest: unknown[]) => {
      let chosen = name;
      if (Array.isArray(name)) {
        chosen = name.find((n) => typeof n === 'string' && templateExists(roots, n)) ?? name[name.length - 1] ?? '';
      }
      if (typeof chosen !== 'string') chosen = String(chosen);
      return getTemplate(chosen, true, ...rest);
    };
    for (const [k, v] of Object.entries(runtime.globals())) env.addGlobal(k, v);
    e = { env, loader, runtime };
    envs.set(key, e);
    return e;
  };

  const toTemplateError = (err: unknown, name: string, entry: EnvEntry | undefined): TemplateError => {
    if (err instanceof TemplateError) return err;
    if (err instanceof PreprocessError) return new TemplateError(err.message, { template: name, line: err.line, kind: err.kind });
    if (err instanceof LoaderError) return new TemplateError(err.message, { template: name, kind: err.kind });
    const e = err as Error & { lineno?: number; colno?: number; steadSyntax?: boolean };
    const runtimeErr = takeLastRuntimeError();
    const inner = entry?.loader.takeLastError();
    if (inner) {
      const where = inner.err instanceof PreprocessError ? { line: inner.err.line } : {};
      const kind: TemplateErrorKind = inner.err instanceof PreprocessError ? inner.err.kind : inner.err instanceof LoaderError ? inner.err.kind : 'RUNTIME';
      return new TemplateError(inner.err.message, { template: inner.from, ...where, kind });
    }
    const msg = String(e?.message ?? err);
    // nunjucks prefixes "(path) [Line n, Column m]\n  " once per template the error passes through;
    // the innermost template is the first prefix with a line, else the last prefix.
    const prefixRe = /^\s*\(([^)\n]*)\)(?: \[Line \d+(?:, Column \d+)?\])?[ \t]*\n/;
    const paths: string[] = [];
    let text = msg;
    for (let m = prefixRe.exec(text); m; m = prefixRe.exec(text)) {
      paths.push(m[1] as string);
      text = text.slice(m[0].length);
    }
    const withLine = /\(([^)\n]*)\) \[Line/.exec(msg);
    const template = withLine?.[1] ?? paths[paths.length - 1] ?? name;
    text = text.trim().replace(/^(JinjaRuntimeError|Template render error|Error|TypeError|RangeError|ReferenceError): /, '').trim();
    let kind: TemplateErrorKind = e?.steadSyntax ? 'SYNTAX' : 'RUNTIME';
    if (runtimeErr && msg.includes(runtimeErr.message)) {
      kind = runtimeErr.kind;
      text = runtimeErr.message;
    }
    const notFound = /template not found: (.*)$/m.exec(text);
    if (notFound) {
      kind = 'NOT_FOUND';
      text = `template ${JSON.stringify(notFound[1])} not found`;
    }
    if (/Maximum call stack size exceeded/.test(msg)) {
      kind = 'LIMIT';
      text = 'recursion too deep (maximum call stack size exceeded)';
    }
    let line: number | undefined;
    if (typeof e?.lineno === 'number') {
      // The template rendered at the top (with its #jinja2 header offset) or one the loader read.
      const map = template === name ? (lastMaps.get(name) ?? entry?.loader.mapFor(name)) : (entry?.loader.mapFor(template) ?? lastMaps.get(template));
      line = map ? map.lineAt(e.lineno, Math.max(0, e.colno ?? 0)) : e.lineno + 1;
    }
    return new TemplateError(text, { template, line, kind });
  };

  const lastMaps = new Map<string, Preprocessed>();

  /** The compiled template of `source` (cached); throws what parsing or compiling throws. */
  const compile = (source: string, name: string): { entry: EnvEntry; body: string; c: { tmpl: nunjucks.Template; pre: Preprocessed } } => {
    const { overrides, body, headerLines } = parseHeader(source.replace(/\r\n?/g, '\n'));
    const ws: WhitespaceOptions = { ...ANSIBLE_WHITESPACE, ...overrides };
    const entry = envFor(ws);
    entry.loader.takeLastError();
    takeLastRuntimeError();
    const key = `${ws.trimBlocks}/${ws.lstripBlocks}/${ws.keepTrailingNewline}\0${name}\0${body}`;
    let c = compiled.get(key);
    if (!c) {
      const pre = preprocess(body, ws, headerLines + 1);
      lastMaps.set(name, pre);
      const props = compiledProps(pre.source, name, entry.env as unknown as Parameters<typeof compiledProps>[2]);
      const tmpl = new nunjucks.Template({ type: 'code', obj: props } as unknown as string, entry.env, name, true);
      c = { tmpl, pre };
      if (compiled.size >= MAX_CACHED) compiled.delete(compiled.keys().next().value as string);
      compiled.set(key, c);
    }
    lastMaps.set(name, c.pre);
    return { entry, body, c };
  };

  const render = (source: string, vars: Record<string, unknown>, name: string): string => {
    let entry: EnvEntry | undefined;
    try {
      const compiledNow = compile(source, name);
      entry = compiledNow.entry;
      const { body, c } = compiledNow;
      entry.runtime.begin();
      let out = c.tmpl.render(copyPlain(vars));
      const missing = countTrailingNewlines(body) - countTrailingNewlines(out);
      if (missing > 0) out += '\n'.repeat(missing);
      return out;
    } catch (err) {
      throw toTemplateError(err, name, entry);
    }
  };

  return {
    renderString(source, vars, name) {
      return render(source, vars, name);
    },
    check(source, name) {
      let entry: EnvEntry | undefined;
      try {
        entry = compile(source, name).entry;
      } catch (err) {
        throw toTemplateError(err, name, entry);
      }
    },
    renderFile(relPath, vars) {
      let text: string;
      try {
        text = readConfined(roots, relPath).text;
      } catch (err) {
        if (err instanceof LoaderError) throw new TemplateError(err.message, { template: relPath, kind: err.kind });
        throw err;
      }
      return render(text, vars, relPath);
    },
  };
}

