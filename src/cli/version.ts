/**
 * The package's version, as built: the CLI bundle embeds it (build-tools/bundle.js inlines the
 * package's package.json, reduced to its name and version), so `prowler-org --version` reads no
 * file at run time; the compiled lib/cli/version.js reads the package's own package.json.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const VERSION: string = (require('../../package.json') as { version: string }).version;
