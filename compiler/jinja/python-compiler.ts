/**
 * A nunjucks Compiler subclass that emits Python semantics: every variable lookup, attribute
 * access, call, operator, truth test, filter, test and output goes through `env.py`
 * (python-runtime.ts) instead of JavaScript's own operators and nunjucks' unguarded
 * `memberLookup`. `{% set %}` binds in the current scope like Jinja2 (a set inside a loop does not
 * leak out), and loops get `loop.cycle` and an iteration budget.
 *
 * nunjucks has no hook for a custom compiler, so `installPythonCompiler()` wraps the module's
 * `compile` function once: environments whose options carry `steadJinja: true` get this compiler,
 * any other nunjucks environment in the process keeps stock behaviour.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/* eslint-disable @typescript-eslint/no-explicit-any */
type AnyNode = any;
type AnyFrame = any;
interface CompilerModule {
  compile: (src: string, asyncFilters: unknown, extensions: unknown, name: string, opts?: Record<string, unknown>) => string;
  Compiler: new (name: string, throwOnUndefined: boolean) => any;
}

const compilerModule = require('nunjucks/src/compiler') as CompilerModule;
const nodes = require('nunjucks/src/nodes') as Record<string, any>;
const parser = require('nunjucks/src/parser') as { parse: (src: string, ext: unknown, opts: unknown) => AnyNode };
const transformer = require('nunjucks/src/transformer') as { transform: (ast: AnyNode, asyncFilters: unknown, name: string) => AnyNode };

/** Wraps a for-loop's iterable so it is converted with Python's iteration rules. */
const SteadIter = nodes.Literal.extend('SteadIter', {}) as new (lineno: number, colno: number, target: AnyNode) => AnyNode;

/** Wraps a for-loop's body so `{% break %}` / `{% continue %}` (thrown signals) act on this loop. */
const SteadLoopBody = nodes.Literal.extend('SteadLoopBody', {}) as new (lineno: number, colno: number, body: AnyNode) => AnyNode;

const Base = compilerModule.Compiler;

class PythonCompiler extends Base {
  [key: string]: any;

  compileSymbol(node: AnyNode, frame: AnyFrame): void {
    const name: string = node.value;
    const v = frame.lookup(name);
    if (v) this._emit(v);
    else this._emit(`env.py.lookup(context, frame, ${JSON.stringify(name)})`);
  }

  /** Record the source position at run time (errors report it). */
  private at(node: AnyNode): void {
    this._emit(`(lineno = ${node.lineno}, colno = ${node.colno}, `);
  }

  private atStatement(node: AnyNode): void {
    this._emitLine(`lineno = ${node.lineno}; colno = ${node.colno};`);
  }

  compileLookupVal(node: AnyNode, frame: AnyFrame): void {
    this.at(node);
    this._emit('env.py.attr((');
    this._compileExpression(node.target, frame);
    this._emit('),');
    this._compileExpression(node.val, frame);
    this._emit('))');
  }

  compileFunCall(node: AnyNode, frame: AnyFrame): void {
    if (node.name instanceof nodes.LookupVal) {
      // obj.method(args): let the runtime prefer Python methods over same-named dict keys.
      this._emit(`(lineno = ${node.lineno}, colno = ${node.colno}, env.py.callAttr(`);
      this._compileExpression(node.name.target, frame);
      this._emit(', ');
      this._compileExpression(node.name.val, frame);
      this._emit(`, ${JSON.stringify(this._getNodeName(node.name))}, context, `);
      this._compileAggregate(node.args, frame, '[', '])');
      this._emit(')');
      return;
    }
    this._emit(`(lineno = ${node.lineno}, colno = ${node.colno}, env.py.call(`);
    this._compileExpression(node.name, frame);
    this._emit(`, ${JSON.stringify(this._getNodeName(node.name))}, context, `);
    this._compileAggregate(node.args, frame, '[', '])');
    this._emit(')');
  }

  compileFilter(node: AnyNode, frame: AnyFrame): void {
    this.assertType(node.name, nodes.Symbol);
    this.at(node);
    this._emit(`env.py.filter(${JSON.stringify(node.name.value)}, `);
    this._compileAggregate(node.args, frame);
    this._emit('))');
  }

  compileFilterAsync(node: AnyNode): void {
    this.fail('asynchronous filters are not supported', node.lineno, node.colno);
  }

  compileIs(node: AnyNode, frame: AnyFrame): void {
    const right = node.right;
    let name: string;
    let args: AnyNode | null = null;
    if (right instanceof nodes.FunCall) {
      name = right.name.value;
      args = right.args;
    } else if (right instanceof nodes.Symbol) name = right.value;
    else {
      this.fail('invalid test', node.lineno, node.colno);
      return;
    }
    name = name.replace(/^__jt_/, '');
    this._emit(`env.py.test(${JSON.stringify(name)}, `);
    this.compile(node.left, frame);
    this._emit(', ');
    if (args) this._compileAggregate(args, frame, '[', ']');
    else this._emit('[]');
    this._emit(')');
  }

  compileIn(node: AnyNode, frame: AnyFrame): void {
    this._emit('env.py.contains(');
    this.compile(node.left, frame);
    this._emit(',');
    this.compile(node.right, frame);
    this._emit(')');
  }

  compileGroup(node: AnyNode, frame: AnyFrame): void {
    // A parenthesised tuple `(a, b)` is a list here; a plain group stays a group.
    if (node.children.length > 1) this._compileAggregate(node, frame, '[', ']');
    else this._compileAggregate(node, frame, '(', ')');
  }

  compileInlineIf(node: AnyNode, frame: AnyFrame): void {
    this._emit('(env.py.truthy(');
    this.compile(node.cond, frame);
    this._emit(') ? (');
    this.compile(node.body, frame);
    this._emit(') : (');
    if (node.else_ !== null) this.compile(node.else_, frame);
    else this._emit('env.py.undefIf()');
    this._emit('))');
  }

  compileOr(node: AnyNode, frame: AnyFrame): void {
    const t = this._tmpid();
    this._emit(`((${t}) => env.py.truthy(${t}) ? ${t} : (`);
    this.compile(node.right, frame);
    this._emit('))(');
    this.compile(node.left, frame);
    this._emit(')');
  }

  compileAnd(node: AnyNode, frame: AnyFrame): void {
    const t = this._tmpid();
    this._emit(`((${t}) => !env.py.truthy(${t}) ? ${t} : (`);
    this.compile(node.right, frame);
    this._emit('))(');
    this.compile(node.left, frame);
    this._emit(')');
  }

  compileNot(node: AnyNode, frame: AnyFrame): void {
    this._emit('!env.py.truthy(');
    this.compile(node.target, frame);
    this._emit(')');
  }

  private binop(fn: string, node: AnyNode, frame: AnyFrame): void {
    this.at(node);
    this._emit(`env.py.${fn}(`);
    this.compile(node.left, frame);
    this._emit(', ');
    this.compile(node.right, frame);
    this._emit('))');
  }

  compileAdd(node: AnyNode, frame: AnyFrame): void {
    this.binop('add', node, frame);
  }
  compileSub(node: AnyNode, frame: AnyFrame): void {
    this.binop('sub', node, frame);
  }
  compileMul(node: AnyNode, frame: AnyFrame): void {
    this.binop('mul', node, frame);
  }
  compileDiv(node: AnyNode, frame: AnyFrame): void {
    this.binop('div', node, frame);
  }
  compileFloorDiv(node: AnyNode, frame: AnyFrame): void {
    this.binop('floordiv', node, frame);
  }
  compileMod(node: AnyNode, frame: AnyFrame): void {
    this.binop('mod', node, frame);
  }
  compilePow(node: AnyNode, frame: AnyFrame): void {
    this.binop('pow', node, frame);
  }
  compileConcat(node: AnyNode, frame: AnyFrame): void {
    this.binop('concat', node, frame);
  }
  compileNeg(node: AnyNode, frame: AnyFrame): void {
    this._emit('env.py.neg(');
    this.compile(node.target, frame);
    this._emit(')');
  }
  compilePos(node: AnyNode, frame: AnyFrame): void {
    this._emit('env.py.pos(');
    this.compile(node.target, frame);
    this._emit(')');
  }

  compileCompare(node: AnyNode, frame: AnyFrame): void {
    this._emit('env.py.compare(');
    this.compile(node.expr, frame);
    this._emit(', [');
    node.ops.forEach((op: AnyNode, i: number) => {
      if (i > 0) this._emit(',');
      this._emit(`[${JSON.stringify(op.type)}, `);
      this.compile(op.expr, frame);
      this._emit(']');
    });
    this._emit('])');
  }

  compileIf(node: AnyNode, frame: AnyFrame, async?: boolean): void {
    if (async) this.fail('asynchronous if is not supported', node.lineno, node.colno);
    this.atStatement(node);
    this._emit('if(env.py.truthy(');
    this._compileExpression(node.cond, frame);
    this._emitLine(')) {');
    this._withScopedSyntax(() => this.compile(node.body, frame));
    if (node.else_) {
      this._emitLine('}\nelse {');
      this._withScopedSyntax(() => this.compile(node.else_, frame));
    }
    this._emitLine('}');
  }

  compileIfAsync(node: AnyNode): void {
    this.fail('asynchronous if is not supported', node.lineno, node.colno);
  }

  compileFor(node: AnyNode, frame: AnyFrame): void {
    const orig = node.arr;
    const body = node.body;
    this.atStatement(node);
    node.arr = new SteadIter(orig.lineno, orig.colno, orig);
    node.body = new SteadLoopBody(body.lineno, body.colno, body);
    try {
      super.compileFor(node, frame);
    } finally {
      node.arr = orig;
      node.body = body;
    }
  }

  compileSteadLoopBody(node: AnyNode, frame: AnyFrame): void {
    this._emitLine('try {');
    // Callback scopes opened inside the body (includes) must close before the catch.
    this._withScopedSyntax(() => this.compile(node.value, frame));
    this._emitLine('} catch (e) { const s = env.py.takeSignal(e); if (s === "break") break; if (s === "continue") continue; throw e; }');
  }

  compileSteadIter(node: AnyNode, frame: AnyFrame): void {
    this._emit('env.py.iter(');
    this._compileExpression(node.value, frame);
    this._emit(')');
  }

  _emitLoopBindings(_node: AnyNode, arr: string, i: string): void {
    this._emitLine('env.py.tick();');
    this._emitLine(`frame.set("loop", env.py.loop(${arr}, ${i}));`);
  }

  compileInclude(node: AnyNode, frame: AnyFrame): void {
    this.atStatement(node);
    // Jinja2 gives an included template the loop's variables but not `loop` itself.
    this._emitLine('frame = frame.push();');
    this._emitLine('frame.set("loop", env.py.hiddenLoop());');
    super.compileInclude(node, frame);
    // Emitted inside the callback that continues after the include.
    this._emitLine('frame = frame.pop();');
  }

  compileImport(node: AnyNode, frame: AnyFrame): void {
    this.atStatement(node);
    super.compileImport(node, frame);
  }

  compileFromImport(node: AnyNode, frame: AnyFrame): void {
    this.atStatement(node);
    super.compileFromImport(node, frame);
  }

  compileExtends(node: AnyNode, frame: AnyFrame): void {
    this.atStatement(node);
    super.compileExtends(node, frame);
  }

  compileOutput(node: AnyNode, frame: AnyFrame): void {
    for (const child of node.children) {
      if (child instanceof nodes.TemplateData) {
        if (child.value) {
          this._emit(`${this.buffer} += `);
          this.compileLiteral(child, frame);
          this._emitLine(';');
        }
      } else {
        this.atStatement(child);
        this._emit(`${this.buffer} += env.py.out(`);
        this.compile(child, frame);
        this._emitLine(');');
      }
    }
  }

  compileSet(node: AnyNode, frame: AnyFrame): void {
    this.atStatement(node);
    const ids: string[] = [];
    for (const target of node.targets) {
      const name: string = target.value;
      let id = frame.lookup(name);
      if (id === null || id === undefined) {
        id = this._tmpid();
        this._emitLine(`var ${id};`);
      }
      ids.push(id);
    }
    this._emit(ids.join(' = ') + ' = ');
    if (node.value) this._compileExpression(node.value, frame);
    else this.compile(node.body, frame);
    this._emitLine(';');
    node.targets.forEach((target: AnyNode, i: number) => {
      const id = ids[i] as string;
      const name = JSON.stringify(target.value);
      // Jinja2 scoping: bind in the current frame only (nunjucks would assign an outer variable).
      this._emitLine(`frame.set(${name}, ${id});`);
      this._emitLine('if(frame.topLevel) {');
      this._emitLine(`context.setVariable(${name}, ${id});`);
      this._emitLine('}');
      if (!String(target.value).startsWith('_')) {
        this._emitLine('if(frame.topLevel) {');
        this._emitLine(`context.addExport(${name}, ${id});`);
        this._emitLine('}');
      }
    });
  }
}

let installed = false;

/** Generated code by (template name, nunjucks source): compiling is pure, and the costly part of a cold render. */
const codeCache = new Map<string, string>();
const MAX_CODE_CACHE = 2000;

/** What nunjucks' Template keeps of a compiled template: the root and block functions. */
export type CompiledProps = Record<string, unknown>;

const propsCache = new Map<string, CompiledProps>();

/**
 * Compile nunjucks source (already preprocessed) for a steadJinja environment into the functions
 * nunjucks' Template runs, shared by every renderer (they close over nothing but their arguments).
 * Parse errors are thrown with 0-based lineno/colno and `steadSyntax: true`.
 */
export function compiledProps(src: string, name: string, env: { asyncFilters?: unknown; extensionsList?: unknown; opts: Record<string, unknown> }): CompiledProps {
  installPythonCompiler();
  const key = `${name}\0${src}`;
  let props = propsCache.get(key);
  if (!props) {
    const code = compilerModule.compile(src, env.asyncFilters ?? [], env.extensionsList ?? [], name, env.opts);
    // The same construction nunjucks' Template._compile uses.
    props = (new Function(code) as () => CompiledProps)();
    if (propsCache.size >= MAX_CODE_CACHE) propsCache.delete(propsCache.keys().next().value as string);
    propsCache.set(key, props);
  }
  return props;
}

/** Make nunjucks compile templates of `steadJinja` environments with PythonCompiler. Idempotent. */
export function installPythonCompiler(): void {
  if (installed) return;
  installed = true;
  const original = compilerModule.compile;
  compilerModule.compile = function compile(src, asyncFilters, extensions, name, opts) {
    if (!opts || opts.steadJinja !== true) return original(src, asyncFilters, extensions, name, opts);
    const key = `${name}\0${src}`;
    const cached = codeCache.get(key);
    if (cached !== undefined) return cached;
    const c = new PythonCompiler(name, false);
    try {
      c.compile(transformer.transform(parser.parse(src, extensions, opts), asyncFilters, name));
    } catch (err) {
      // Parser errors carry 1-based positions, run-time errors 0-based ones: make them all 0-based
      // and mark them as syntax errors for the renderer.
      const e = err as { lineno?: number; colno?: number; steadSyntax?: boolean };
      if (typeof e.lineno === 'number') e.lineno -= 1;
      if (typeof e.colno === 'number') e.colno -= 1;
      e.steadSyntax = true;
      throw err;
    }
    const code = c.getCode() as string;
    if (codeCache.size >= MAX_CODE_CACHE) codeCache.delete(codeCache.keys().next().value as string);
    codeCache.set(key, code);
    return code;
  };
}
