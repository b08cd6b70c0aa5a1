import path from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ROOT = path.dirname(fileURLToPath(import.meta.url));

/**
 * The import layers (README "Code map"): functions → lib/<feature> → lib/store, lib/domain. Judged on the imported
 * file's path from the repository root, by folder, so a rule holds however files are named, nested or moved.
 */
const LAYERS = [
  {
    from: /^lib\//,
    deny: /^(scripts|bench|test|cli|functions)\//,
    why: 'lib/ is what deploys: it never imports scripts/, bench/, test/, cli/ or functions/',
  },
  { from: /^functions\//, deny: /^(?!lib\/)/, why: 'functions/ import only lib/' },
  {
    from: /^functions\//,
    deny: /^lib\/store\//,
    why: 'functions/ reach Redis through a lib/ feature or the composition root, never lib/store',
  },
  {
    from: /^lib\/store\//,
    deny: /^(?!lib\/(store|domain|util)\/|lib\/errors\.[jt]s$)/,
    why: 'lib/store sits under the features: it imports only lib/store, lib/domain, lib/util and lib/errors',
  },
  {
    from: /^lib\/domain\//,
    deny: /^(?!lib\/domain\/)/,
    why: 'lib/domain is the pure core: it imports only lib/domain',
  },
];

const toRoot = (file) => path.relative(ROOT, file).split(path.sep).join('/');

/** Reports a relative import that crosses a layer the wrong way (packages are left to no-restricted-imports). */
const importLayers = {
  meta: { type: 'problem', schema: [], messages: { layer: '{{target}}: {{why}}' } },
  create(context) {
    const importer = toRoot(context.filename);
    const layers = LAYERS.filter((l) => l.from.test(importer));
    if (layers.length === 0) return {};
    const check = (node) => {
      const source = node.source;
      if (source?.type !== 'Literal' || typeof source.value !== 'string' || !source.value.startsWith('.'))
        return;
      const target = toRoot(path.resolve(path.dirname(context.filename), source.value));
      for (const l of layers) {
        if (l.deny.test(target))
          context.report({ node: source, messageId: 'layer', data: { target, why: l.why } });
      }
    };
    return {
      ImportDeclaration: check,
      ExportAllDeclaration: check,
      ExportNamedDeclaration: check,
      ImportExpression: check,
    };
  },
};

const CORE_ONLY =
  'lib/domain is the pure core: no adapter (Redis, QStash, files, network, logs), clock or environment';

export default tseslint.config(
  { ignores: ['node_modules', '.serverless', '.esbuild', '.local', 'coverage', 'bench/results', 'dist'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  {
    // Plain Node programs run without a build (the LocalStack runtime-init): Node's globals.
    files: ['**/*.mjs'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        [
          'process',
          'Buffer',
          'console',
          'fetch',
          'setTimeout',
          'clearTimeout',
          'setInterval',
          'setImmediate',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    // The dashboard's browser script (bundled by npm run assets; typed by lib/dashboard/browser/tsconfig.json with DOM).
    files: ['lib/dashboard/browser/**/*.ts'],
    languageOptions: {
      globals: Object.fromEntries(
        [
          'window',
          'document',
          'location',
          'sessionStorage',
          'fetch',
          'URL',
          'Intl',
          'setTimeout',
          'setInterval',
        ].map((name) => [name, 'readonly']),
      ),
    },
    rules: {
      // Data reaches the page only through textContent and attributes.
      'no-restricted-properties': [
        'error',
        ...['innerHTML', 'outerHTML', 'insertAdjacentHTML'].map((property) => ({ property })),
      ],
    },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    plugins: { stagger: { rules: { 'import-layers': importLayers } } },
    rules: { 'stagger/import-layers': 'error' },
  },
  {
    files: ['lib/domain/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@upstash/*', '*redis*', 'pino', 'node:*', 'fs', 'http', 'https', 'net'],
              message: CORE_ONLY,
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: `${CORE_ONLY}: take the values as arguments` },
        { name: 'performance', message: `${CORE_ONLY}: take the time as an argument` },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: `${CORE_ONLY}: take the time as an argument` },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "NewExpression[callee.name='Date'][arguments.length=0], CallExpression[callee.name='Date']",
          message: `${CORE_ONLY}: take the time as an argument`,
        },
      ],
    },
  },
);
