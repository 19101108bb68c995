/**
 * The checkers we did not write: Terraform, cfn-lint and moto's server. A suite that needs one
 * runs when it is installed; when it is not, the suite fails under CI (`CI=true`) with what to
 * install, and elsewhere it is skipped under a name that says so (the summary reporter lists
 * skipped tests by name: skipped is not passed).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** An external checker: how to find it, and how to get it. */
export interface Oracle {
  /** The command on PATH. */
  readonly command: string;
  /** Arguments that make it print its version and exit 0. */
  readonly versionArgs: string[];
  /** What to install, outside this project's machine image. */
  readonly install: string;
}

export const TERRAFORM: Oracle = {
  command: 'terraform',
  versionArgs: ['version'],
  install: 'Terraform >= 1.5 (https://developer.hashicorp.com/terraform/install; brew install hashicorp/tap/terraform; apt install terraform '
    + 'from apt.releases.hashicorp.com), with registry access or a filesystem mirror of hashicorp/aws in $PROWLER_TF_PLUGIN_MIRROR',
};

export const CFN_LINT: Oracle = {
  command: 'cfn-lint',
  versionArgs: ['--version'],
  install: 'cfn-lint >= 1.51 (pip install cfn-lint; brew install cfn-lint)',
};

export const MOTO_SERVER: Oracle = {
  command: 'moto_server',
  versionArgs: ['--help'],
  install: 'moto\'s server >= 5.2 (pip install "moto[server]")',
};

/** Whether CI runs this (CI=true, or any CI value other than false/0). */
export function inCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

const found = new Map<string, boolean>();
/** Whether the checker answers its version. */
export function installed(oracle: Oracle): boolean {
  if (!found.has(oracle.command)) {
    const result = spawnSync(oracle.command, oracle.versionArgs, { stdio: 'ignore', timeout: 30_000 });
    found.set(oracle.command, result.status === 0);
  }
  return found.get(oracle.command)!;
}

/**
 * `describe`, when the checker is installed. Missing: under CI a failing test saying what to
 * install; elsewhere the suite is skipped under a name that says it did not run and why.
 */
export function describeWith(oracle: Oracle, name: string, body: () => void): void {
  if (installed(oracle)) {
    describe(name, body);
  } else if (inCi()) {
    describe(name, () => {
      test(`${oracle.command} is installed`, () => {
        throw new Error(`${oracle.command} was not found on PATH: CI needs it for '${name}'. Install ${oracle.install}.`);
      });
    });
  } else {
    process.stderr.write(`\n*** NOT RUN: '${name}' needs ${oracle.command}, which is not installed. Install ${oracle.install}. ***\n\n`);
    describe.skip(`NOT RUN (${oracle.command} missing): ${name}`, body);
  }
}

/** The filesystem mirror of the hashicorp/aws provider, when there is one (the machine image's). */
export function terraformAwsMirror(): { path: string; version: string } | undefined {
  const path = process.env.PROWLER_TF_PLUGIN_MIRROR ?? '/opt/tf-plugins';
  const versions = join(path, 'registry.terraform.io', 'hashicorp', 'aws');
  if (!existsSync(versions)) return undefined;
  const [version] = readdirSync(versions).filter((v) => /^\d+\.\d+\.\d+$/.test(v)).sort().reverse();
  return version ? { path, version } : undefined;
}
