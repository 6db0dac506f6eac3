// Builds the widget's plain ES module and its stylesheet:
//   syft_pm/kernel/static/widget.js   from labextension/src/widget/index.ts
//   syft_pm/kernel/static/widget.css  from widget.css (fallbacks), base.css, process.css
//
// The JupyterLab extension is a module-federation container that cannot be
// imported as an ES module; anywidget (VS Code, Colab) imports one. The widget
// folder imports nothing from JupyterLab (ESLint enforces it), so esbuild
// bundles the cell view with its few @lumino helpers into one small file.
//
// Usage: node labextension/build-widget.mjs [--dev]   (--dev: not minified, inline sourcemap)
import { build, transform } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'syft_pm', 'kernel', 'static');
const dev = process.argv.includes('--dev');

/** The stylesheets of the process view, in order (their @imports are not followed). */
const VIEW_STYLES = [
  'labextension/style/base.css',
  'labextension/style/process.css'
];
const FALLBACKS = 'labextension/src/widget/widget.css';

function read(path) {
  return readFileSync(join(root, path), 'utf8');
}

/**
 * `var(--jp-NAME)` -> `var(--jp-NAME, var(--syft-pm-jp-NAME))`, and the names
 * it rewrote (so the build can check each one has a fallback).
 */
export function withFallbacks(css) {
  const names = new Set();
  const rewritten = css.replace(/var\(--jp-([a-z0-9-]+)\)/g, (_, name) => {
    names.add(name);
    return `var(--jp-${name}, var(--syft-pm-jp-${name}))`;
  });
  return { css: rewritten, names };
}

async function buildCss() {
  const fallbacks = read(FALLBACKS);
  const view = VIEW_STYLES.map(path =>
    read(path).replace(/^@import[^;]*;\s*$/gm, '')
  ).join('\n');
  const { css, names } = withFallbacks(view);
  const missing = [...names].filter(
    name => !fallbacks.includes(`--syft-pm-jp-${name}:`)
  );
  if (missing.length) {
    throw new Error(
      `${FALLBACKS} has no fallback for --jp-${missing.join(', --jp-')} (used in ${VIEW_STYLES.join(', ')})`
    );
  }
  const result = await transform(`${fallbacks}\n${css}`, {
    loader: 'css',
    minify: !dev,
    // Keep color-mix() and nesting as written: every front end that runs
    // ipywidgets 8 runs a browser that knows them.
    target: ['chrome111', 'firefox113', 'safari16']
  });
  return result.code;
}

async function main() {
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [join(root, 'labextension/src/widget/index.ts')],
    outfile: join(out, 'widget.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    // The ES builds of @lumino (their "browser" field names UMD files that
    // cannot be tree-shaken).
    mainFields: ['module', 'main'],
    target: 'es2020',
    minify: !dev,
    sourcemap: dev ? 'inline' : false,
    legalComments: 'none',
    tsconfig: join(root, 'tsconfig.json'),
    logLevel: 'warning'
  });
  writeFileSync(join(out, 'widget.css'), await buildCss());
  for (const name of ['widget.js', 'widget.css']) {
    const bytes = readFileSync(join(out, name));
    const gz = gzipSync(bytes, { level: 9 }).length;
    console.log(
      `syft_pm/kernel/static/${name}: ${(bytes.length / 1024).toFixed(1)} KiB, ` +
        `${(gz / 1024).toFixed(1)} KiB gzipped`
    );
  }
}

main().catch(error => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
