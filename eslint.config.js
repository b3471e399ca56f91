import js from '@eslint/js';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

// The core runs on web-standard runtimes too (Workers, Deno, Bun, Vercel's edge): no Node module, no Node global.
const nodeModules = builtinModules.filter((name) => !name.startsWith('_'));
const nodeGlobals = ['process', 'Buffer', 'require', 'module', 'exports', '__dirname', '__filename', 'global', 'setImmediate', 'clearImmediate'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.docs-snippets-*/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeModules.map((name) => ({ name, message: 'src/ runs on web-standard runtimes: no Node modules.' })),
          patterns: [{ group: ['node:*', ...nodeModules.map((name) => `${name}/*`)], message: 'src/ runs on web-standard runtimes: no Node modules.' }],
        },
      ],
      'no-restricted-globals': ['error', ...nodeGlobals.map((name) => ({ name, message: `src/ runs on web-standard runtimes: no Node global ${name}.` }))],
    },
  },
);
