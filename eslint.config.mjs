// ESLint flat config in the spirit of the JupyterLab extension template.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// -- layers of labextension/src: imports only point down -------------------------
//
//   live/     protocol, store, channel interface, REST requests, transports
//   ui/       icons and settings
//   logs/     log pane, log view and what feeds them
//   process/  the one-process view (cell output and detail view)
//   output/   the cell renderer          sidebar/  the panel (detail/ below it)
//   widget/   the same cell view as an anywidget module (VS Code, Colab), built
//             on its own as a plain ES module: nothing from JupyterLab
//
// The cell view (live/ without its JupyterLab transports, ui/, logs/, process/)
// must not depend on JupyterLab, so that it can be built as a plain ES module
// for a widget (VS Code, Colab): no `@jupyterlab/*`, and none of the live/
// modules that wrap `@jupyterlab/services`.
const JUPYTERLAB = {
  group: ['@jupyterlab/*'],
  message:
    'the cell view must not depend on JupyterLab (it also builds as a plain ES module): inject what it needs'
};
const LIVE_TRANSPORTS = {
  group: ['**/request', '**/kernelChannel', '**/serverChannel'],
  message:
    'these wrap @jupyterlab/services; the cell view takes an IChannel (and an ApiCall) instead'
};
const folders = (...names) => ({
  group: names.flatMap(n => [`./${n}/**`, `../${n}/**`, `../../${n}/**`]),
  message: 'imports point down the layers (see eslint.config.mjs)'
});
const layer = (files, patterns, ignores = []) => ({
  files,
  ignores,
  rules: { 'no-restricted-imports': ['error', { patterns }] }
});
const LIVE_TRANSPORT_FILES = [
  'labextension/src/live/request.ts',
  'labextension/src/live/kernelChannel.ts',
  'labextension/src/live/serverChannel.ts'
];
const layers = [
  layer(
    ['labextension/src/live/*.ts'],
    [
      folders('ui', 'logs', 'process', 'output', 'sidebar', 'widget'),
      JUPYTERLAB,
      LIVE_TRANSPORTS
    ],
    LIVE_TRANSPORT_FILES
  ),
  layer(LIVE_TRANSPORT_FILES, [
    folders('ui', 'logs', 'process', 'output', 'sidebar', 'widget')
  ]),
  layer(
    ['labextension/src/ui/**/*.ts'],
    [
      folders('live', 'logs', 'process', 'output', 'sidebar', 'widget'),
      JUPYTERLAB,
      LIVE_TRANSPORTS
    ]
  ),
  layer(
    ['labextension/src/logs/**/*.ts'],
    [
      folders('process', 'output', 'sidebar', 'widget'),
      JUPYTERLAB,
      LIVE_TRANSPORTS
    ]
  ),
  layer(
    ['labextension/src/process/**/*.ts'],
    [folders('output', 'sidebar', 'widget'), JUPYTERLAB, LIVE_TRANSPORTS]
  ),
  layer(['labextension/src/output/**/*.ts'], [folders('sidebar', 'widget')]),
  layer(['labextension/src/sidebar/*.ts'], [folders('output', 'widget')]),
  layer(
    ['labextension/src/widget/**/*.ts'],
    [folders('output', 'sidebar'), JUPYTERLAB, LIVE_TRANSPORTS]
  ),
  layer(
    ['labextension/src/sidebar/detail/**/*.ts'],
    [
      folders('output', 'widget'),
      {
        // The detail view uses the sidebar's data (model, fleet, ports), not
        // the panel that opens it.
        group: [
          '../processSidebar',
          '../sidebarView',
          '../detailViews',
          '../plugin',
          '../processActions',
          '../processList',
          '../chrome'
        ],
        message: 'sidebar/detail/ sits below the sidebar panel'
      }
    ]
  )
];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'lib/**',
      'syft_pm/**',
      '.venv/**',
      'dist/**',
      'build/**',
      'coverage/**',
      'artifacts/**',
      'tests/**',
      '.ci/**',
      '**/*.d.ts'
    ]
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // Turns off the formatting rules Prettier owns; the rules below come after it.
  prettier,
  {
    files: ['labextension/**/*.ts'],
    languageOptions: {
      globals: { ...globals.browser },
      parserOptions: {
        projectService: {
          allowDefaultProject: []
        },
        tsconfigRootDir: import.meta.dirname
      }
    },
    rules: {
      '@typescript-eslint/naming-convention': [
        'error',
        {
          selector: 'interface',
          format: ['PascalCase'],
          custom: { regex: '^I[A-Z]', match: true }
        }
      ],
      '@typescript-eslint/no-unused-vars': ['warn', { args: 'none' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-namespace': 'off',
      '@typescript-eslint/no-use-before-define': 'off',
      '@typescript-eslint/no-floating-promises': 'error',
      quotes: [
        'error',
        'single',
        { avoidEscape: true, allowTemplateLiterals: false }
      ],
      curly: ['error', 'all'],
      eqeqeq: 'error',
      'prefer-arrow-callback': 'error'
    }
  },
  ...layers,
  {
    files: ['labextension/test/**/*.ts'],
    languageOptions: { globals: { ...globals.node } }
  },
  {
    files: [
      '*.js',
      '*.mjs',
      '*.mts',
      'labextension/style/*.js',
      'labextension/*.mjs'
    ],
    languageOptions: { globals: { ...globals.node } }
  }
);
