// The vxmesh lint rules bite: each fixture under test/fixtures/lint/ is linted with the project's own
// eslint.config.js under the fake src/ paths its `// lint-as: PATH expect: RULES` lines name, and exactly
// those rules must fire (`none`: nothing at all). A rule that stops firing, or a correct file that starts
// failing, breaks this test.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURES = join(ROOT, 'test/fixtures/lint');

interface Case {
  fixture: string;
  lintAs: string;
  expected: string[];
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const fixture of readdirSync(FIXTURES).filter((f) => f.endsWith('.ts')).sort()) {
    const text = readFileSync(join(FIXTURES, fixture), 'utf8');
    for (const m of text.matchAll(/^\/\/ lint-as: (\S+) expect: (\S+)$/gm)) {
      out.push({ fixture, lintAs: m[1]!, expected: m[2] === 'none' ? [] : m[2]!.split(',').sort() });
    }
  }
  return out;
}

// The fixtures are not part of any TypeScript program, so the type-aware rules are switched off here; the
// layering rules need no type information.
const eslint = new ESLint({ cwd: ROOT, overrideConfig: tseslint.configs.disableTypeChecked });

async function lintAs(fixture: string, fakePath: string): Promise<ESLint.LintResult> {
  const text = readFileSync(join(FIXTURES, fixture), 'utf8');
  const [result] = await eslint.lintText(text, { filePath: join(ROOT, fakePath) });
  return result!;
}

describe('lint: the vxmesh rules (layering and house rules of DESIGN.md)', () => {
  const all = cases();

  it('has fixtures for every vxmesh rule, each with a failing and a passing path', () => {
    const fired = new Set(all.flatMap((c) => c.expected));
    expect([...fired].sort()).toEqual(['vxmesh/file-names', 'vxmesh/kernel-only', 'vxmesh/layering', 'vxmesh/no-module-state', 'vxmesh/pure-modules']);
    expect(all.some((c) => c.expected.length === 0)).toBe(true);
    expect(all.length).toBeGreaterThanOrEqual(20);
  });

  it.each(all.map((c) => [c.fixture, c.lintAs, c] as const))('%s as %s', async (_f, _p, c) => {
    const result = await lintAs(c.fixture, c.lintAs);
    const got = result.messages.map((m) => m.ruleId ?? `fatal: ${m.message}`).sort();
    expect(got, result.messages.map((m) => `${m.line}:${m.column} ${m.message}`).join('\n')).toEqual(c.expected);
  });

  it('says what is wrong and where the import should go', async () => {
    const result = await lintAs('upward-import.ts', 'src/ipam/upward.ts');
    expect(result.messages[0]!.message).toBe(
      'src/ipam/upward.ts (src/ipam, layer 1) must not import src/agent/main.ts (src/agent, layer 7): imports go to lower layers only. ' +
        'Move the shared part down (contract types to src/model, errors to src/errors.ts).',
    );
    const spawn = await lintAs('spawn-outside-kernel.ts', 'src/overlay/spawns.ts');
    expect(spawn.messages[0]!.message).toMatch(/src\/overlay\/spawns\.ts imports "node:child_process": src\/kernel alone spawns processes/);
  });

  it('lints the real tree with the same config: the normal run skips the fixtures', async () => {
    expect(await eslint.isPathIgnored(join(FIXTURES, 'upward-import.ts'))).toBe(true);
    expect(await eslint.isPathIgnored(join(ROOT, 'src/ipam/pool.ts'))).toBe(false);
  });
});
