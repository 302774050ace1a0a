/**
 * The manifest repository `npm run bench:agent` publishes (test/bench/agent-bench.ts): one host
 * `bench` whose role `bench` holds the same state as bench:apply's layout
 * (test/bench/apply-bench.ts) — N files of 1 KiB under /srv/bench/aX/bY/fN (10 × 10 leaf
 * directories), every tenth file rendered from a Jinja2 template with its own `vars:`, the rest
 * copied from files/, 112 directories and 10 links. Pure: builds the file map, writes nothing.
 */

/** One managed file: its absolute path on the host and whether it comes from the template. */
export interface BenchFile {
  readonly path: string;
  readonly template: boolean;
}

/** The managed state for n files. */
export interface BenchLayout {
  readonly files: readonly BenchFile[];
  readonly dirs: readonly string[];
  readonly links: readonly { readonly path: string; readonly target: string }[];
}

/** The host the repository declares. */
export const benchHost = 'bench';

/** /srv/bench/aX/bY/fN for n files: /srv, /srv/bench, 10 aX and 100 aX/bY directories, 10 links. */
export function benchLayout(n: number): BenchLayout {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`benchLayout: n must be a positive integer, got ${n}`);
  const dirs = ['/srv', '/srv/bench'];
  for (let a = 0; a < 10; a++) {
    dirs.push(`/srv/bench/a${a}`);
    for (let b = 0; b < 10; b++) dirs.push(`/srv/bench/a${a}/b${b}`);
  }
  const files = Array.from({ length: n }, (_, i) => ({ path: `/srv/bench/a${i % 10}/b${Math.floor(i / 10) % 10}/f${i}`, template: i % 10 === 9 }));
  const links = Array.from({ length: 10 }, (_, k) => ({ path: `/srv/bench/link${k}`, target: `a${k}/b0` }));
  return { files, dirs, links };
}

const PAD = 'x'.repeat(1000);

/** The content of static file i (1 KiB at most), as bench:apply writes it. */
export function benchFileContent(i: number): string {
  return `file ${i}\n${PAD}\n`.slice(0, 1024);
}

/** What the template renders for file i. */
export function benchTemplateOutput(i: number): string {
  return `templated ${i}\n${PAD}\n`;
}

/**
 * The repository as relative path → content (the JSON form POST /api/v1/revisions takes; see
 * docs/manifest-repository.md). The resource list is in roles/bench/role.yaml; group `bench`
 * gives the role to the host.
 */
export function benchRepository(n: number): Record<string, string> {
  const l = benchLayout(n);
  const files: Record<string, string> = {
    'stead.yaml': 'stead: 1\nname: bench-agent\ndescription: bench:agent — one host with N managed files\n',
    'inventory/hosts.yaml': `hosts:\n  ${benchHost}: { idc: lo, set: bench }\n`,
    'groups/bench.yaml': `description: the benchmark host\nkind: custom\npriority: 10\nhosts: [${benchHost}]\nroles: [bench]\n`,
    'vars/global.yaml': '{}\n',
    'templates/item.j2': `templated {{ n }}\n${PAD}\n`,
  };
  const out: string[] = ['description: N managed files (bench:apply layout)', 'resources:'];
  for (const d of l.dirs) out.push(`  - type: directory\n    path: ${d}\n    mode: "0755"`);
  l.files.forEach((f, i) => {
    if (f.template) out.push(`  - type: file\n    path: ${f.path}\n    template: item.j2\n    vars: { n: ${i} }\n    mode: "0644"`);
    else {
      files[`files/data/${i}.txt`] = benchFileContent(i);
      out.push(`  - type: file\n    path: ${f.path}\n    source: data/${i}.txt\n    mode: "0644"`);
    }
  });
  for (const k of l.links) out.push(`  - type: link\n    path: ${k.path}\n    target: ${k.target}`);
  files['roles/bench/role.yaml'] = `${out.join('\n')}\n`;
  return files;
}

/** How many resources host `bench` compiles to for n files: directories + files + links. */
export function benchResourceCount(n: number): number {
  const l = benchLayout(n);
  return l.dirs.length + l.files.length + l.links.length;
}
