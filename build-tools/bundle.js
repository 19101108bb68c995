// Bundles the onboarding Lambda and the prowler-org command with esbuild (the bundle:handler and
// bundle:cli tasks, and lib/core/zod.js after the compile), with what the esbuild command line
// cannot say:
// - The Lambda's credentials are always in its environment (AWS_ACCESS_KEY_ID, …, set by Lambda
//   from the function's role). The SDK's default chain also loads profiles, SSO, credential
//   processes and web-identity token files on demand, with the STS and SSO clients behind them
//   (about 85 KB): in the handler's bundle those links say "not here" and the chain goes on to the
//   container and instance metadata providers, as it would on any machine without them.
// - Each AWS SDK client imports its whole package.json (about 2 KB) to read its version, for the
//   user agent: the bundles keep the name and version.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');
const { zipSync } = require('fflate');

const sdkPackageVersions = {
  name: 'sdk-package-versions',
  setup(build) {
    build.onLoad({ filter: /[\\/]@aws-sdk[\\/][^\\/]+[\\/]package\.json$/ }, (args) => {
      const { name, version } = JSON.parse(fs.readFileSync(args.path, 'utf8'));
      return { contents: JSON.stringify({ name, version }), loader: 'json' };
    });
  },
};

// The package's own package.json (the CLI's --version, src/cli/version.ts): its name and version
// only, embedded in the bundle, which reads no file at run time.
const ownPackageVersion = {
  name: 'own-package-version',
  setup(build) {
    const own = path.join(__dirname, '..', 'package.json');
    build.onLoad({ filter: /[\\/]package\.json$/ }, (args) => {
      if (path.resolve(args.path) !== own) return undefined;
      const { name, version } = JSON.parse(fs.readFileSync(args.path, 'utf8'));
      return { contents: JSON.stringify({ name, version }), loader: 'json' };
    });
  },
};

const LAMBDA_UNUSED_CREDENTIAL_SOURCES = {
  '@aws-sdk/credential-provider-ini': 'fromIni',
  '@aws-sdk/credential-provider-sso': 'fromSSO',
  '@aws-sdk/credential-provider-process': 'fromProcess',
  '@aws-sdk/credential-provider-web-identity': 'fromTokenFile',
};
const lambdaCredentials = {
  name: 'lambda-credentials',
  setup(build) {
    const names = Object.keys(LAMBDA_UNUSED_CREDENTIAL_SOURCES).map((n) => n.replace(/[/-]/g, '\\$&')).join('|');
    build.onResolve({ filter: new RegExp(`^(${names})$`) }, (args) => ({ path: args.path, namespace: 'lambda-credentials' }));
    build.onLoad({ filter: /.*/, namespace: 'lambda-credentials' }, (args) => {
      const provider = LAMBDA_UNUSED_CREDENTIAL_SOURCES[args.path];
      // `tryNextLink`: the SDK's chain moves on, as for a source that is not configured.
      return {
        contents: `export const ${provider} = () => async () => { throw Object.assign(new Error(${JSON.stringify(
          `${provider}: not in the onboarding Lambda's bundle (a Lambda function's credentials are in its environment)`,
        )}), { name: 'CredentialsProviderError', tryNextLink: true }); };\n`,
        loader: 'js',
      };
    });
  },
};

const TARGETS = {
  // Also zipped once here (lib/handler-bundle.zip): the Terraform flavours ship that archive, so
  // a user's synth copies it instead of zipping the bundle every time.
  handler: {
    entryPoints: ['src/handler/lambda.ts'], outfile: 'lib/handler-bundle/index.js', target: 'node22', archive: 'lib/handler-bundle.zip',
    plugins: [sdkPackageVersions, lambdaCredentials],
    mustNotHold: /@aws-sdk[\\/](nested-clients|credential-provider-(ini|sso|process|web-identity|login)|token-providers)[\\/]/,
  },
  cli: { entryPoints: ['src/cli/main.ts'], outfile: 'lib/cli/prowler-org.js', target: 'node20', banner: { js: '#!/usr/bin/env node' },
    plugins: [sdkPackageVersions, ownPackageVersion] },
  // After the compile: lib/core/zod.js, tsc's one-line re-export of zod, becomes the part of zod the
  // package calls, in one file. A construct's synth then loads one module, not zod's ninety
  // (about 45 ms of a 300 ms CDKTF synth). lib/core/zod.d.ts still names zod's types.
  zod: {
    entryPoints: ['src/core/zod.ts'], outfile: 'lib/core/zod.js', target: 'node20',
    banner: { js: '// zod/mini, as src/core/zod.ts exports it, bundled by build-tools/bundle.js (bundle:zod).' },
  },
};

/** The esbuild options every bundle here is built with (the bench builds its baselines with them too). */
const COMMON = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  // The ES module builds (the AWS SDK ships both): esbuild drops what the code never calls.
  mainFields: ['module', 'main'],
  minify: true,
  charset: 'utf8', // messages' dashes and ellipses as they are, not as \u escapes
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  plugins: [sdkPackageVersions],
};

async function bundle(name) {
  const target = TARGETS[name];
  if (!target) throw new Error(`usage: node build-tools/bundle.js ${Object.keys(TARGETS).join('|')}`);
  const { archive, mustNotHold, ...options } = target;
  const root = path.join(__dirname, '..');
  const result = await esbuild.build({ ...COMMON, ...options, absWorkingDir: root });
  // zod's locales (40-odd, 260 KB): none is loaded (src/core/zod.ts), so none may be bundled.
  const bundled = Object.entries(Object.values(result.metafile.outputs)[0].inputs).filter(([, input]) => input.bytesInOutput > 0).map(([file]) => file);
  const zodLocales = bundled.filter((input) => /zod[\\/]v4[\\/]locales[\\/]/.test(input));
  if (zodLocales.length > 0) throw new Error(`${name}: zod locales were bundled: ${zodLocales.join(', ')}`);
  const unwanted = mustNotHold ? bundled.filter((input) => mustNotHold.test(input)) : [];
  if (unwanted.length > 0) throw new Error(`${name}: bundled what it leaves out: ${unwanted.join(', ')}`);
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
