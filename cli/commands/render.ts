/**
 * `stead render --template FILE [--vars FILE] [--json]`: render one Jinja2 template the way
 * Ansible's template module would, and print the result. Includes, imports and `from` resolve
 * relative to the template's directory (plus any --search-path). Variables are YAML 1.1 or JSON
 * (chosen by the .json extension).
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createRenderer, TemplateError } from '../../compiler/jinja/renderer.js';
import { parseVarsText, VarsFileError } from '../../compiler/jinja/vars-file.js';
import { exitCodes, UsageError, writeLine, type CliIo } from '../io.js';

export const renderUsage = `Usage: stead render --template FILE [--vars FILE] [options]

Render one Jinja2 template as Ansible's template module would (trim_blocks, the template's
final newline kept, undefined variables are errors) and print it on stdout, byte for byte.

Options:
  --template FILE      The template (include/import/from resolve relative to its directory)
  --vars FILE          Variables: YAML 1.1 as Ansible reads it, or JSON when FILE ends in .json
  --search-path DIR    Another directory for include/import (repeatable; searched after the
                       template's own directory)
  --json               Print {"output": …} or {"error": {…}} as JSON
  -h, --help           Show this help

Exit status: 0 rendered; 1 the template or the variables have an error (printed as
template:line: message); 64 usage error.`;

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      template: { type: 'string' },
      vars: { type: 'string' },
      'search-path': { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    writeLine(io.stdout, renderUsage);
    return exitCodes.ok;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.template === undefined) throw new UsageError('--template FILE is required');
  const templatePath = resolve(io.cwd, values.template);
  const fail = (err: { message: string; code: string; kind?: string; template?: string; line?: number | undefined }): number => {
    if (values.json) {
      const e: Record<string, unknown> = { code: err.code, message: err.message };
      if (err.kind !== undefined) e.kind = err.kind;
      if (err.template !== undefined) e.template = err.template;
      if (err.line !== undefined) e.line = err.line;
      writeLine(io.stdout, JSON.stringify({ error: e }));
    } else writeLine(io.stderr, `stead render: ${err.message}`);
    return exitCodes.failed;
  };

  let vars: Record<string, unknown> = {};
  if (values.vars !== undefined) {
    const varsPath = resolve(io.cwd, values.vars);
    let text: string;
    try {
      text = await readFile(varsPath, 'utf8');
    } catch (e) {
      return fail({ code: 'VARS_FILE', message: `cannot read ${values.vars}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
    }
    try {
      vars = parseVarsText(text, varsPath.endsWith('.json'));
    } catch (e) {
      if (e instanceof VarsFileError) return fail({ code: e.code, message: `${values.vars}: ${e.message}` });
      throw e;
    }
  }

  const searchPaths = [dirname(templatePath), ...(values['search-path'] ?? []).map((p) => resolve(io.cwd, p))];
  const renderer = createRenderer({ searchPaths });
  let output: string;
  try {
    output = renderer.renderFile(basename(templatePath), vars);
  } catch (e) {
    if (e instanceof TemplateError) return fail({ code: e.code, kind: e.kind, template: e.template, line: e.line, message: e.message });
    throw e;
  }
  if (values.json) writeLine(io.stdout, JSON.stringify({ template: values.template, output }));
  else io.stdout.write(output);
  return exitCodes.ok;
}
