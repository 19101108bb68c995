// Bundles the onboarding Lambda and the prowler-org command with esbuild (the bundle:handler and
// bundle:cli tasks). One thing the esbuild command line cannot say: zod's classic API re-exports
// all of its 40-odd locales as `z.locales` (and zod's core as `locales`) (258 KB of a 1.49 MB handler bundle), though only the
// English one, which zod registers by default, is ever used here. `z.locales` keeps only `en`.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');
const { zipSync } = require('fflate');

const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    // The locale's ES module (src/core/zod.ts names the CommonJS one, for the compiled lib/).
    build.onResolve({ filter: /^zod\/v4\/locales\/en\.cjs$/ }, (args) => ({ path: require.resolve('zod/v4/locales/en.js', { paths: [args.resolveDir] }) }));
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => (
      /[\\/]zod[\\/]v4[\\/](classic|core|mini)[\\/]/.test(args.importer)
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
  // Also zipped once here (lib/handler-bundle.zip): the Terraform flavours ship that archive, so
  // a user's synth copies it instead of zipping the bundle every time.
  handler: { entryPoints: ['src/handler/lambda.ts'], outfile: 'lib/handler-bundle/index.js', target: 'node22', archive: 'lib/handler-bundle.zip' },
  cli: { entryPoints: ['src/cli/main.ts'], outfile: 'lib/cli/prowler-org.js', target: 'node20', banner: { js: '#!/usr/bin/env node' } },
};

/** The esbuild options every bundle here is built with (the bench builds its baselines with them too). */
const COMMON = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  // The ES module builds (the AWS SDK ships both): esbuild drops what the code never calls.
  mainFields: ['module', 'main'],
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  plugins: [zodEnglishOnly],
};

async function bundle(name) {
  const target = TARGETS[name];
  if (!target) throw new Error(`usage: node build-tools/bundle.js ${Object.keys(TARGETS).join('|')}`);
  const { archive, ...options } = target;
  const root = path.join(__dirname, '..');
  const result = await esbuild.build({ ...COMMON, ...options, absWorkingDir: root });
  const zodLocales = Object.keys(result.metafile.inputs).filter((input) => /zod[\\/]v4[\\/]locales[\\/](?!en\.c?js)/.test(input));
  if (zodLocales.length > 1) throw new Error(`${name}: zod locales other than English were bundled: ${zodLocales.join(', ')}`);
  if (archive) {
    // The same bytes for the same bundle: a fixed date, so Lambda's code hash changes only with the code.
    const code = fs.readFileSync(path.join(root, options.outfile));
    const zip = zipSync({ 'index.js': [code, { level: 9, mtime: new Date('2000-01-01T00:00:00Z'), attrs: 0o644 << 16 }] });
    fs.writeFileSync(path.join(root, archive), zip);
  }
}

module.exports = { COMMON, TARGETS };

if (require.main === module) {
  bundle(process.argv[2]).catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
}
