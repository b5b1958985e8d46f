// ESLint for vxmesh: the layering of DESIGN.md as rules (so it holds by tool, not by habit), plus a few
// typescript-eslint rules the code keeps. The layering lives in the local plugin `vxmesh` below:
//   vxmesh/layering      a module imports its own folder and lower layers only (never upward or sideways)
//   vxmesh/kernel-only   only src/kernel spawns processes, loads native addons or reads /proc and /sys
//   vxmesh/pure-modules  src/ipam (but its store-*.ts) and the wire codecs import no I/O modules
//   vxmesh/file-names    kebab-case file names everywhere
//   vxmesh/no-module-state  no module-level mutable state in src/ (let/var, a shared Map/Set/[])
// test/fixtures/lint/ holds files that break these rules on purpose (test/unit/lint-rules.test.ts lints them
// under fake src/ paths), so the normal run ignores that folder.
import { builtinModules } from 'node:module';
import path from 'node:path';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const ROOT = import.meta.dirname;

// Layers from low to high. A unit (folder, or a single file) may import itself and any unit of a lower
// layer. Units of layer 0 are the shared contract and helpers, so they may also import each other.
const LAYERS = [
  // src/metrics: every metric's definition (prom-client only; fed through interfaces the layers above define).
  ['src/errors.ts', 'src/model', 'src/util', 'src/metrics'],
  ['src/ipam', 'src/store', 'src/kernel', 'src/gossip/memberlist'],
  ['src/gossip/networkdb'],
  // The agent-facing gossip service (join loop, table handles, key rotation) sits on top of networkdb.
  ['src/gossip'],
  ['src/overlay'],
  ['src/ingress', 'src/dns'],
  ['src/api', 'src/plugin', 'src/config'],
  ['src/agent'],
  ['src/cli'],
];

// Narrow, intended exceptions: [importing file pattern, imported unit, why].
const LAYER_EXCEPTIONS = [
  // DESIGN.md: src/ipam is pure allocation math plus allocation over the store (pools, VNIs, VIPs).
  [/^src\/ipam\/(.*\/)?store-[^/]*\.ts$/, 'src/store', 'ipam over the store'],
];

const UNITS = LAYERS.flatMap((units, rank) => units.map((unit) => ({ unit, rank })))
  // longest first, so src/gossip/networkdb wins over src/gossip
  .sort((a, b) => b.unit.length - a.unit.length);

/** Path relative to the project root with forward slashes, e.g. "src/ipam/pool.ts". */
function projectPath(file) {
  return path.relative(ROOT, file).split(path.sep).join('/');
}

function unitOf(rel) {
  return UNITS.find(({ unit }) => rel === unit || rel.startsWith(unit + '/'));
}

const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const bareBuiltin = (spec) => (NODE_BUILTINS.has(spec) ? spec.replace(/^node:/, '') : undefined);

/** Calls `check(specifier, node)` for every static import/export-from, import(), require() and import = require(). */
function moduleSources(check) {
  const literal = (node, source) => {
    if (source && source.type === 'Literal' && typeof source.value === 'string') check(source.value, node);
    else if (source && source.type === 'TemplateLiteral' && source.expressions.length === 0) check(source.quasis[0].value.cooked, node);
  };
  return {
    ImportDeclaration: (n) => literal(n, n.source),
    ExportNamedDeclaration: (n) => literal(n, n.source),
    ExportAllDeclaration: (n) => literal(n, n.source),
    ImportExpression: (n) => literal(n, n.source),
    TSExternalModuleReference: (n) => literal(n, n.expression),
    'CallExpression[callee.name="require"]': (n) => literal(n, n.arguments[0]),
  };
}

const layering = {
  meta: {
    type: 'problem',
    docs: { description: 'src/ modules import their own folder and lower layers only (DESIGN.md)' },
    schema: [],
    messages: {
      upward: '{{from}} ({{fromUnit}}, layer {{fromRank}}) must not import {{to}} ({{toUnit}}, layer {{toRank}}): imports go to lower layers only. Move the shared part down (contract types to src/model, errors to src/errors.ts).',
      sideways: '{{from}} ({{fromUnit}}) must not import {{to}} ({{toUnit}}): both are layer {{fromRank}}; a module imports its own folder and lower layers only.',
      unknown: '{{file}} is in no layer: add its folder to LAYERS in eslint.config.js.',
    },
  },
  create(context) {
    const from = projectPath(context.filename);
    if (!from.startsWith('src/')) return {};
    const mine = unitOf(from);
    if (!mine) {
      return { Program: (node) => context.report({ node, messageId: 'unknown', data: { file: from } }) };
    }
    return moduleSources((spec, node) => {
      if (!spec.startsWith('.')) return;
      const to = projectPath(path.resolve(path.dirname(context.filename), spec)).replace(/\.js$/, '.ts');
      if (!to.startsWith('src/')) return;
      const theirs = unitOf(to);
      if (!theirs) {
        context.report({ node, messageId: 'unknown', data: { file: to } });
        return;
      }
      if (theirs.unit === mine.unit || theirs.rank < mine.rank || (theirs.rank === 0 && mine.rank === 0)) return;
      if (LAYER_EXCEPTIONS.some(([file, unit]) => file.test(from) && unit === theirs.unit)) return;
      const data = { from, to, fromUnit: mine.unit, toUnit: theirs.unit, fromRank: mine.rank, toRank: theirs.rank };
      context.report({ node, messageId: theirs.rank > mine.rank ? 'upward' : 'sideways', data });
    });
  },
};

const PROCESS_MODULES = new Set(['child_process', 'cluster']);
const HOST_PATH = /^\/(proc|sys)(\/|$)/;

const kernelOnly = {
  meta: {
    type: 'problem',
    docs: { description: 'only src/kernel spawns processes, loads native addons or reads /proc and /sys' },
    schema: [],
    messages: {
      spawn: '{{file}} imports "{{spec}}": src/kernel alone spawns processes. Ask src/kernel for the result instead.',
      addon: '{{file}} loads a native addon: only src/kernel may.',
      hostPath: '{{file}} names "{{path}}": src/kernel alone reads the host\'s /proc and /sys. Add a reader there.',
    },
  },
  create(context) {
    const file = projectPath(context.filename);
    if (!file.startsWith('src/') || file.startsWith('src/kernel/')) return {};
    const hostPath = (node, text) => {
      if (typeof text === 'string' && HOST_PATH.test(text)) context.report({ node, messageId: 'hostPath', data: { file, path: text } });
    };
    return {
      ...moduleSources((spec, node) => {
        if (PROCESS_MODULES.has(bareBuiltin(spec))) context.report({ node, messageId: 'spawn', data: { file, spec } });
        else if (spec.endsWith('.node')) context.report({ node, messageId: 'addon', data: { file } });
      }),
      'MemberExpression[object.name="process"][property.name="dlopen"]': (node) =>
        context.report({ node, messageId: 'addon', data: { file } }),
      Literal: (node) => hostPath(node, node.value),
      TemplateElement: (node) => hostPath(node, node.value.cooked),
    };
  },
};

// Builtins that do I/O or reach the host; pure modules and codecs import none of them.
const IO_MODULES = new Set(['fs', 'fs/promises', 'net', 'dgram', 'child_process', 'cluster', 'worker_threads', 'http', 'https', 'http2', 'tls', 'dns', 'dns/promises', 'os', 'readline', 'inspector']);
const CODECS = [
  /^src\/gossip\/memberlist\/(msgpack|lzw|messages)\.ts$/,
  /^src\/gossip\/networkdb\/proto[^/]*\.ts$/,
  /^src\/dns\/wire\/[^/]*\.ts$/,
];
const PURE_IPAM = (file) => file.startsWith('src/ipam/') && !/\/store-[^/]*\.ts$/.test(file);

const pureModules = {
  meta: {
    type: 'problem',
    docs: { description: 'src/ipam (except store-*.ts) imports no Node builtin; codecs import no I/O module' },
    schema: [],
    messages: {
      ipam: '{{file}} imports "{{spec}}": src/ipam is pure allocation math (only its store-*.ts files may do I/O, through src/store).',
      codec: '{{file}} imports "{{spec}}": a wire codec turns bytes into values and back, it does no I/O.',
    },
  },
  create(context) {
    const file = projectPath(context.filename);
    const kind = PURE_IPAM(file) ? 'ipam' : CODECS.some((re) => re.test(file)) ? 'codec' : undefined;
    if (!kind) return {};
    return moduleSources((spec, node) => {
      const builtin = bareBuiltin(spec);
      if (builtin === undefined) return;
      if (kind === 'ipam' || IO_MODULES.has(builtin)) context.report({ node, messageId: kind, data: { file, spec } });
    });
  },
};

const MUTABLE_CONTAINERS = new Set(['Map', 'Set', 'WeakMap', 'WeakSet', 'Array']);

/** A module-level declaration that holds state: a let/var, or a const made a fresh Map/Set/empty array. */
function isModuleState(decl) {
  if (decl.kind !== 'const') return true;
  return decl.declarations.some(({ init }) =>
    (init?.type === 'NewExpression' && init.callee.type === 'Identifier' && MUTABLE_CONTAINERS.has(init.callee.name)) ||
    (init?.type === 'ArrayExpression' && init.elements.length === 0));
}

const noModuleState = {
  meta: {
    type: 'problem',
    docs: { description: 'no module-level mutable state in src/ (DESIGN.md): state lives in instances' },
    schema: [],
    messages: { state: '{{file}}: module-level mutable state ({{what}}); keep it in an instance the composition root builds.' },
  },
  create(context) {
    const file = projectPath(context.filename);
    const check = (decl) => {
      if (decl?.type === 'VariableDeclaration' && isModuleState(decl)) {
        const what = decl.kind === 'const' ? 'a shared container' : `a top-level ${decl.kind}`;
        context.report({ node: decl, messageId: 'state', data: { file, what } });
      }
    };
    return {
      'Program > VariableDeclaration': check,
      'Program > ExportNamedDeclaration': (node) => check(node.declaration),
    };
  },
};

// kebab-case words, then dot-separated suffixes: memberlist-fuzz.test.ts, store-pools.ts, eslint.config.js
const KEBAB_FILE = /^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+)+$/;

const fileNames = {
  meta: {
    type: 'suggestion',
    docs: { description: 'file names are kebab-case (store-pools.ts, not storePools.ts)' },
    schema: [],
    messages: { kebab: '{{file}}: file names are kebab-case, e.g. {{suggestion}}' },
  },
  create(context) {
    const file = projectPath(context.filename);
    const base = path.posix.basename(file);
    if (KEBAB_FILE.test(base)) return {};
    const suggestion = base.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/_/g, '-').toLowerCase();
    return { Program: (node) => context.report({ node, messageId: 'kebab', data: { file, suggestion } }) };
  },
};

export const vxmeshPlugin = {
  meta: { name: 'vxmesh' },
  rules: { layering, 'kernel-only': kernelOnly, 'pure-modules': pureModules, 'file-names': fileNames, 'no-module-state': noModuleState },
};

// Node's globals for the plain .mjs scripts (TypeScript files get them from @types/node).
const nodeGlobals = Object.fromEntries(
  ['process', 'console', 'Buffer', 'URL', 'AbortController', 'AbortSignal', 'TextEncoder', 'TextDecoder', 'performance',
    'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'queueMicrotask', 'structuredClone', 'fetch']
    .map((g) => [g, 'readonly']),
);

export default defineConfig(
  { ignores: ['dist/**', 'node_modules/**', 'test/fixtures/lint/**', 'test/interop/bin/**', '.vm-cache/**', 'build/**', 'src/api/generated/**' /* written by proto-loader-gen-types; test/unit/api-generated.test.ts keeps it current */] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: nodeGlobals },
  },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.mjs', 'scripts/**/*.mjs'],
    plugins: { vxmesh: vxmeshPlugin },
    rules: { 'vxmesh/file-names': 'error' },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'vxmesh/layering': 'error',
      'vxmesh/kernel-only': 'error',
      'vxmesh/pure-modules': 'error',
      'vxmesh/no-module-state': 'error',
      // Small modules with one job (issue 8): code lines, comments and blank lines not counted. A file that
      // must be longer (e.g. a protocol state machine) says why in a file-level eslint-disable comment.
      'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    rules: {
      // Validation rejects control characters on purpose (names, labels): such regexes are intended.
      'no-control-regex': 'off',
      // A user-facing error (VxError text) often replaces a low-level cause on purpose.
      'preserve-caught-error': 'off',
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    files: ['src/**/*.ts', 'test/**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: ROOT } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-var': 'error',
      'prefer-const': 'error',
    },
  },
);
