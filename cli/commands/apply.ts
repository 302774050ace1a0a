/**
 * `stead apply FILE|DIR`: the masterless run, like `puppet apply`. Loads and checks the
 * manifest (every mistake printed as file:line:column: path: message, exit 1, nothing
 * touched), builds the catalog, and reconciles this host with the engine.
 */
import { mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compileGuard, runReportSchema, type Guard, type RunReport } from '../../schemas/index.js';
import { hasErrors } from '../../compiler/manifest/manifest-problem.js';
import { reconcile } from '../../agent/engine/reconcile.js';
import { createNodeHost } from '../../agent/host/node-host.js';
import { collectFacts } from '../../agent/facts/collect-facts.js';
import { compileOrReuse } from '../apply/compile-or-reuse.js';
import { version } from '../main.js';
import { exitCodes, UsageError, writeLine, type CliIo } from '../io.js';
import { formatProblems, problemCount } from '../output/problems-text.js';
import { formatStatus, formatSummary } from '../output/run-report-text.js';
import { createProgress } from '../output/progress.js';
import { ensureSandboxRoot } from '../sandbox-root.js';

export const applyUsage = `Usage: stead apply FILE|DIR [options]

Enforce a manifest on this host, without a server. FILE is a manifest (templates/ and
files/ beside it); DIR is every *.yaml in it merged, or, when it holds stead.yaml, a
manifest repository from which the catalog of --host is compiled.

Options:
  --noop                 Report what would change; change nothing
  --root DIR             Confine every managed path under DIR (tests, demos, sandboxes);
                         a missing DIR is created (0755); a symlink is refused
  --state-dir DIR        Backups and the record of applied values
                         (default: <root>/var/lib/stead with --root, else /var/lib/stead)
  --host NAME            Host name for templates (inventory_hostname) and the report
                         (default: this machine's host name)
  --detailed-exitcodes   0 no changes, 2 changes, 4 failures, 6 changes and failures
  --json                 Print the run report as JSON (schema: urn:stead:run-report)
  --report FILE          Also write the run report as JSON to FILE
  --no-cache             Compile the manifest even when its inputs are unchanged, and do
                         not keep the compiled catalog in the state directory
  -h, --help             Show this help

Exit codes: 0 success; 1 invalid manifest or (without --detailed-exitcodes) a failed
resource; 64 usage error; 130 interrupted.`;

const isRunReport: Guard<RunReport> = compileGuard(runReportSchema);

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      noop: { type: 'boolean', default: false },
      root: { type: 'string' },
      'state-dir': { type: 'string' },
      host: { type: 'string' },
      'detailed-exitcodes': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      report: { type: 'string' },
      'no-cache': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    writeLine(io.stdout, applyUsage);
    return exitCodes.ok;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'a manifest FILE or DIR is required' : `one manifest path, got ${positionals.length}`);
  const target = resolve(io.cwd, positionals[0]!);
  const root = values.root !== undefined ? resolve(io.cwd, values.root) : '/';
  if (values.root !== undefined) await ensureSandboxRoot(root, `--root ${values.root}`, { create: !values.noop });
  const stateDir = values['state-dir'] !== undefined ? resolve(io.cwd, values['state-dir']) : join(root, 'var/lib/stead');
  const reportPath = values.report !== undefined ? resolve(io.cwd, values.report) : undefined;
  if (reportPath !== undefined && !(await stat(dirname(reportPath)).then((s) => s.isDirectory(), () => false))) {
    throw new UsageError(`--report ${values.report}: the directory ${dirname(reportPath)} does not exist`);
  }
  const hostName = values.host ?? hostname();
  const json = values.json;

  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(exitCodes.interrupted);
    writeLine(io.stderr, `stead apply: ${sig}: stopping after the resources in progress (again to quit at once)`);
    controller.abort(new Error(`interrupted by ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const facts = await collectFacts();
    const input = await compileOrReuse(target, {
      host: hostName,
      facts,
      stateDir,
      version: version(),
      env: io.env,
      signal: controller.signal,
      noCache: values['no-cache'],
      note: (message) => writeLine(io.stderr, `stead apply: ${message}`),
    });
    const shown = input.problems.map((p) => ({ ...p, file: displayPath(io.cwd, p.file) }));
    if (!input.catalog || hasErrors(input.problems)) {
      if (json) {
        writeLine(io.stdout, JSON.stringify({ error: 'INVALID_MANIFEST', message: `${problemCount(input.problems)}; nothing was changed`, problems: shown }, null, 2));
      } else {
        for (const line of formatProblems(shown)) writeLine(io.stderr, line);
        writeLine(io.stderr, `stead apply: ${problemCount(input.problems)} in ${displayPath(io.cwd, target)}; nothing was changed`);
      }
      return exitCodes.failed;
    }
    for (const line of formatProblems(shown)) writeLine(io.stderr, line); // warnings: stderr, even with --json

    const catalog = input.catalog;
    const host = createNodeHost({ root });
    const blobs = input.blobs;
    // A noop run must not create anything, not even the state directory: when it does not
    // exist yet, nothing was applied before, and an empty scratch directory says the same.
    let scratchState: string | undefined;
    let runStateDir = stateDir;
    if (values.noop && !(await stat(stateDir).then(() => true, () => false))) {
      scratchState = await mkdtemp(join(tmpdir(), 'stead-noop-state-'));
      runStateDir = scratchState;
    }
    const color = !json && (io.stdout as { isTTY?: boolean }).isTTY === true && !io.env['NO_COLOR'];
    const progress = createProgress(io.stderr, catalog.resources.length);
    let report: RunReport;
    try {
      report = await reconcile(catalog, {
        host,
        blobs,
        stateDir: runStateDir,
        hostName,
        noop: values.noop,
        signal: controller.signal,
        onResource: (status) => {
          progress.tick(status.id);
          if (json) return;
          const lines = formatStatus(status, { color });
          if (lines.length > 0) {
            progress.done();
            for (const l of lines) writeLine(io.stdout, l);
          }
        },
      });
    } finally {
      progress.done();
      if (scratchState) await rm(scratchState, { recursive: true, force: true });
    }
    if (!values.noop) await input.remember();

    const problems = isRunReport.check(report);
    if (problems.length > 0) writeLine(io.stderr, `stead apply: warning: the run report does not match its schema: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`);
    if (reportPath !== undefined) await writeReport(reportPath, report);
    if (json) writeLine(io.stdout, JSON.stringify(report, null, 2));
    else {
      if (report.error) writeLine(io.stderr, `stead apply: the run failed before any change: ${report.error}`);
      writeLine(io.stdout, formatSummary(report));
    }
    return exitCode(report, values['detailed-exitcodes']);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Puppet's --detailed-exitcodes: 2 = changes, 4 = failures, 6 = both; plain: 1 on failure. */
export function exitCode(report: RunReport, detailed: boolean): number {
  const failed = report.counts.failed > 0 || report.counts.skipped > 0 || report.outcome === 'failed';
  const changed = report.counts.changed > 0 || report.counts.wouldChange > 0;
  if (!detailed) return failed ? exitCodes.failed : exitCodes.ok;
  return (changed ? 2 : 0) | (failed ? 4 : 0);
}

/** Writes the report atomically (temp file + rename), so a reader never sees half of it. */
async function writeReport(path: string, report: RunReport): Promise<void> {
  const tmp = join(dirname(path), `.${Date.now()}-${process.pid}.stead-report.tmp`);
  await writeFile(tmp, `${JSON.stringify(report, null, 2)}\n`, { mode: 0o644, flag: 'wx' });
  await rename(tmp, path);
}

function displayPath(cwd: string, p: string): string {
  return p.startsWith(`${cwd}/`) ? p.slice(cwd.length + 1) : p;
}
