// @ts-check
/**
 * Lint: typescript-eslint's recommended rules, import cycles, and the layer boundaries of ARCHITECTURE.md. A
 * boundary is an import rule: breaking one fails `npm run lint`, and so `npm test` and CI.
 *
 *   src/shared     imports nothing but src/shared (no vscode, no Node built-ins: the webview bundles it)
 *   src/core       imports src/shared only (never the extension, the webview, the CLI or the report; no vscode)
 *   src/report     imports src/shared (and src/core); never the extension, the webview or the CLI
 *   src/webview    imports src/webview and src/shared only (no core, no extension, no vscode, no Node)
 *   src/cli        never imports the extension or the webview (no vscode); uses the core only through src/core/index.ts
 *   src/extension  never imports the CLI or the webview; uses the core only through src/core/index.ts; its
 *                  vscode-free halves (*Logic.ts) never import vscode
 *
 * Formatting is Prettier's (`prettier --check`, in `npm run lint` too); eslint-config-prettier turns off the style
 * rules that would fight it.
 */
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = [
  'fs',
  'path',
  'os',
  'crypto',
  'child_process',
  'worker_threads',
  'util',
  'events',
  'stream',
  'url',
  'zlib',
  'readline',
];

const noVscode = { name: 'vscode', message: 'Only src/extension talks to VS Code (see ARCHITECTURE.md, "Layers").' };
const noNode = NODE_BUILTINS.flatMap((n) => [n, `node:${n}`]).map((name) => ({
  name,
  message: 'This code also runs in the webview: no Node built-ins.',
}));
const imports = (...paths) => ({ 'no-restricted-imports': ['error', { paths }] });

/** The layers, by resolved file path (so `src/shared` and `src/webview/shared` are never confused). */
const why = (text) => `${text} (see ARCHITECTURE.md, "Layers").`;
const LAYERS = [
  {
    target: './src/shared',
    from: './src',
    except: ['./shared'],
    message: why('src/shared is imported by every process and imports nothing else'),
  },
  {
    target: './src/core',
    from: ['./src/extension', './src/webview', './src/cli', './src/report'],
    message: why('src/core is the engine: it imports only src/shared'),
  },
  { target: './src/report', from: ['./src/extension', './src/webview', './src/cli'], message: why('src/report renders src/shared data') },
  {
    target: './src/webview',
    from: './src',
    except: ['./webview', './shared'],
    message: why('The webview imports only src/webview and src/shared'),
  },
  {
    target: './src/cli',
    from: ['./src/extension', './src/webview'],
    message: why('The CLI never imports the VS Code side or the webview'),
  },
  {
    target: ['./src/extension', './src/cli'],
    from: './src/core',
    except: ['./index.ts'],
    message: why('The extension and the CLI use the core through its entry point, src/core/index.ts'),
  },
  {
    target: './src/extension',
    from: ['./src/cli', './src/webview'],
    message: why('The extension host never imports the CLI or webview code (the panel HTML is src/extension/panels/html.ts)'),
  },
];

export default tseslint.config(
  {
    ignores: [
      'out/**',
      'dist/**',
      'node_modules/**',
      '.cache/**',
      'training/**',
      'models/**',
      'test/fixtures/**',
      'test/e2e/fixtures/**',
      '**/*.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mjs'],
    plugins: { 'import-x': importX },
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        __dirname: 'readonly',
        require: 'readonly',
        module: 'writable',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
    settings: {
      'import-x/resolver-next': [
        createTypeScriptImportResolver({
          project: ['tsconfig.json', 'src/webview/tsconfig.json', 'test/tsconfig.browser.json'],
          noWarnOnMultipleProjects: true,
        }),
      ],
      'import-x/extensions': ['.ts', '.mjs', '.js'],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { zones: LAYERS }],
      'import-x/no-self-import': 'error',
      // The code's own conventions: `_` marks an unused parameter; empty catch blocks carry a comment saying why.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  { files: ['src/shared/**/*.ts', 'src/webview/**/*.ts'], rules: imports(noVscode, ...noNode) },
  { files: ['src/core/**/*.ts', 'src/report/**/*.ts', 'src/cli/**/*.ts'], rules: imports(noVscode) },
  {
    files: ['src/extension/**/*Logic.ts'],
    rules: imports({
      ...noVscode,
      message: 'A *Logic.ts file is the vscode-free half of a pair, unit-tested in plain Node (see ARCHITECTURE.md).',
    }),
  },
  {
    // Tests may reach into any layer; they still may not form cycles.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    // Tests load optional tools with require() (playwright-core from the e2e cache, mocha's CommonJS entry).
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
