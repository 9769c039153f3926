import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

// approve-cli ships on approvers' machines: it may share only the wire format with the
// server (src/wire/), never the server's internals, and src/wire/ must stay self-contained.

const ROOT = resolve(import.meta.dirname, '../..');
const WIRE = join(ROOT, 'src/wire');
const APPROVECLI = join(ROOT, 'src/approvecli');

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
};
const DEPENDENCIES = new Set(Object.keys(pkg.dependencies ?? {}));

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

/** Every module specifier: static imports and re-exports (also multi-line), side-effect and dynamic imports. */
function specifiers(source: string): string[] {
  const found = source.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"]([^'"]+)['"]/g);
  return [...found].map((m) => m[1]!);
}

/** npm package name of a bare specifier ('jose', '@scope/pkg/sub' -> '@scope/pkg'), or undefined. */
function packageOf(spec: string): string | undefined {
  const m = /^(@[a-z0-9][\w.-]*\/[a-z0-9][\w.-]*|[a-z0-9][\w.-]*)(\/.*)?$/.exec(spec);
  return m?.[1];
}

const inside = (file: string, dir: string) => file === dir || file.startsWith(dir + sep);

/** The imports of `files` that leave `allowed` folders, or name something that is not a dependency. */
function strayImports(files: string[], allowed: string[]): string[] {
  const stray: string[] = [];
  for (const file of files) {
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      const at = `${relative(ROOT, file)}: ${spec}`;
      if (spec.startsWith('node:')) continue;
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        if (!allowed.some((dir) => inside(target, dir))) stray.push(at);
        continue;
      }
      const name = packageOf(spec);
      if (!name || !DEPENDENCIES.has(name)) stray.push(at);
    }
  }
  return stray;
}

describe('wire: what approve-cli shares with the server', () => {
  const cliFiles = [...tsFiles(APPROVECLI), join(ROOT, 'src/cli/approve-cli.ts')];
  const wireFiles = tsFiles(WIRE);

  it('finds the files and their imports (the check is not vacuous)', () => {
    expect(cliFiles.length).toBeGreaterThan(5);
    expect(wireFiles.length).toBeGreaterThan(3);
    expect(specifiers(readFileSync(join(APPROVECLI, 'verify.ts'), 'utf8'))).toContain(
      '../wire/fingerprint.js',
    );
    expect(specifiers("import {\n  a,\n  b,\n} from '../x.js';\nexport { c } from './y.js';")).toEqual([
      '../x.js',
      './y.js',
    ]);
  });

  it('approve-cli imports only src/wire/, its own folder, node: builtins and npm dependencies', () => {
    expect(strayImports(cliFiles, [APPROVECLI, WIRE])).toEqual([]);
  });

  it('src/wire/ imports nothing outside itself but node: builtins and npm dependencies', () => {
    expect(strayImports(wireFiles, [WIRE])).toEqual([]);
  });
});
