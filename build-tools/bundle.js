// Bundles the onboarding Lambda and the prowler-org command with esbuild (the bundle:handler and
// bundle:cli tasks). One thing the esbuild command line cannot say: zod's classic API re-exports
// all of its 40-odd locales as `z.locales` (and zod's core as `locales`) (258 KB of a 1.49 MB handler bundle), though only the
// English one, which zod registers by default, is ever used here. `z.locales` keeps only `en`.
'use strict';
const path = require('node:path');
const esbuild = require('esbuild');

const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => (
      /[\\/]zod[\\/]v4[\\/](classic|core)[\\/]/.test(args.importer)
        ? { path: path.join(path.dirname(args.importer), '..', 'locales', 'index.js'), namespace: 'zod-english-only' }
        : undefined
    ));
    build.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, (args) => ({
      contents: 'export { default as en } from "./en.js";\n',
      resolveDir: path.dirname(args.path),
      loader: 'js',
    }));
  },
};

const TARGETS = {
  handler: { entryPoints: ['src/handler/lambda.ts'], outfile: 'lib/handler-bundle/index.js', target: 'node22' },
  cli: { entryPoints: ['src/cli/main.ts'], outfile: 'lib/cli/prowler-org.js', target: 'node20', banner: { js: '#!/usr/bin/env node' } },
};

async function main() {
  const name = process.argv[2];
  const target = TARGETS[name];
  if (!target) throw new Error(`usage: node build-tools/bundle.js ${Object.keys(TARGETS).join('|')}`);
  const result = await esbuild.build({
    ...target,
    absWorkingDir: path.join(__dirname, '..'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
    plugins: [zodEnglishOnly],
  });
  const zodLocales = Object.keys(result.metafile.inputs).filter((input) => /zod[\\/]v4[\\/]locales[\\/](?!en\.js)/.test(input));
  if (zodLocales.length > 1) throw new Error(`${name}: zod locales other than English were bundled: ${zodLocales.join(', ')}`);
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
