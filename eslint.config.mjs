// Lint (npm run lint): typescript-eslint's type-aware recommended set over every package's and
// app's sources and tests and over tools/. Type information comes from the nearest tsconfig
// through the project service, so a new package is linted without being listed here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeGlobals = Object.fromEntries(
  ['process', 'console', 'URL', 'Buffer', 'setTimeout', 'clearTimeout'].map((name) => [name, 'readonly']),
);

export default tseslint.config(
  { ignores: ['**/dist/**', '**/out-tsc/**', '**/node_modules/**', 'packages/cli-kit/vendor/**', '.nx/**', 'tmp/**', '.cache/**', 'tools/bench/out/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // An argument or binding kept for its position or shape is named `_…`.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Rejecting with AbortSignal.reason (typed any) or a caught value (unknown) passes the original error on.
      // QEMU serial consoles are cleaned of terminal escape sequences (ESC = \x1b) on purpose.
      'no-control-regex': 'off',
      // `async` on a method that needs no await keeps the Promise contract: a throw becomes a rejection.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
    },
  },
  {
    files: ['**/*.test.ts', '**/__tests__/**/*.ts', '**/__fixtures__/**/*.ts'],
    rules: {
      // Tests read JSON.parse'd documents field by field: the expect() on each value is the check.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // Plain JavaScript (bins, tools/*.mjs, this file) and the Vitest configs outside any tsconfig:
    // parsed without type information.
    files: ['**/*.js', '**/*.mjs', '**/vitest.config.ts', 'vitest.*.ts'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: nodeGlobals, parserOptions: { projectService: false } },
  },
  {
    // The apps' bins are CommonJS (their bin/package.json), like the bundle they run.
    files: ['apps/*/bin/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { ...nodeGlobals, require: 'readonly', __filename: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
