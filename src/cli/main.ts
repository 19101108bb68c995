/**
 * `prowler-org`: the onboarding from a spec file, for GitOps: validate it, plan (what apply would
 * do, for a pull request), apply (on merge), or print the standalone CloudFormation template.
 * The API key comes from Secrets Manager or an environment variable; never from the command line,
 * never printed.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { explainRejectedKey, isMissingCredentials, keySource, missingCredentialsMessage } from './errors';
import { applyAnnotations, FAIL_ON, failingAccounts, failOnMessage, githubAnnotation, type FailOn } from './outcomes';
import { permissionsCommand, permissionsUsage } from './permissions';
import { TEMPLATE_OPTIONS, templateCommand, templateUsage, withBooleanValues } from './template';
import { VERSION } from './version';
import { STATE_KEYS } from '../core/onboarding';
import { shown, specProblems } from '../core/spec';
import type { SpecFile } from '../core/spec';
import { loadSpecFile } from '../core/spec-file-reader';
import * as z from '../core/zod';
import { continueRun, requestFromSpec, startRun, toReport, type EngineDependencies, type OnboardingReport } from '../handler/engine';
import { acquireLease, describeHolder, holdLease, type HeldLease } from '../handler/lease';
import { organizationsRegion, type OrganizationSnapshot } from '../handler/organizations';
import { PROWLER_CLOUD_API_URL, ProwlerClient, realClock, type ProwlerAuth } from '../handler/prowler-api';
import { emptyRecord, type OnboardingRecord } from '../handler/record';
import { ACTION_WORDS, actionText, cloudWrites, editionLines, hasChanges, planSummary, renderSummary, reportDocument } from '../handler/report';
import { keyProblem, readProwlerAuth } from '../handler/secrets';
import { S3JsonStore, type JsonStore } from '../handler/store';

/** Exit codes; ACCOUNTS: apply finished, but accounts `--fail-on` counts were not onboarded. */
export const EXIT = { OK: 0, FAILED: 1, CHANGES: 2, ACCOUNTS: 3 } as const;

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  isTty: boolean;
  /** The store behind a spec's stateBucket (default: S3; the tests give one in memory). */
  store?: (bucket: string) => JsonStore;
}

/** What a run without stateBucket cannot know, said once (validate, plan and apply). */
export const WITHOUT_STATE_BUCKET = 'without stateBucket, no record of this onboarding is kept: every provider counts as one it linked '
  + '(removal never deletes), a role secret it wrote is rewritten only when its provider is not connected (a changed role name or External ID '
  + 'is not seen while the old one still connects), and on a self-hosted Prowler App which daily schedules exist cannot be known (apply '
  + 'asks for each; Prowler refuses those that exist; Prowler Cloud lists them). Nothing stops a sync of the constructs or another apply '
  + 'from running at the same time.';

/** How often a waiting apply looks at the lease again. */
const LEASE_POLL_MS = 2_000;
/** How long an apply waits for another run (a deployment may run for most of an hour). */
const MAX_LEASE_WAIT_MS = 60 * 60_000;

const USAGE = `Usage:
  prowler-org validate <spec-file>
  prowler-org plan <spec-file> [--format table|markdown|json] [--simulate <organization.json>]
  prowler-org apply <spec-file> [--yes] [--simulate <organization.json>] [--format table|json]
                    [--fail-on failed|skipped] [--annotations github|none]
${templateUsage()}
${permissionsUsage()}
  prowler-org --version | --help

The Prowler API key is read from the Secrets Manager secret (apiKey.secretArn) or the environment
variable (apiKey.env, default PROWLER_API_KEY) the spec file names. plan and apply discover the
organization with your AWS credentials (the management account or a delegated administrator);
--simulate reads it from a file instead.

apply --fail-on: exit 3 when the apply finished but selected accounts were not onboarded:
  failed   an account whose registration (provider, role secret) or scan launch failed, or a
           provider that left the selection and could not be removed;
  skipped  those, and every other selected account not onboarded: blocked (linked to another
           organization) or not connected (its connection test failed).
apply --annotations github (the default when GITHUB_ACTIONS=true): a GitHub Actions ::error or
  ::warning annotation per account that failed or was skipped (on stdout; on stderr with
  --format json).

Exit codes: 0 success (plan: no changes), 1 failure or invalid spec, 2 plan has changes,
3 apply --fail-on found accounts it counts.`;

const fixtureSchema = z.object({
  id: z.string(),
  managementAccountId: z.string(),
  roots: z.array(z.object({ id: z.string(), name: z.string() })),
  ous: z.array(z.object({ id: z.string(), name: z.string(), parentId: z.string() })),
  accounts: z.array(z.object({
    id: z.string(),
    name: z.string(),
    email: z.optional(z.string()),
    status: z.string(),
    parentId: z.string(),
    tags: z.optional(z.record(z.string(), z.string())),
  })),
});

/** An organization from a JSON fixture instead of the Organizations API (--simulate). */
export function snapshotFromFixture(path: string): OrganizationSnapshot {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new Error(`--simulate ${shown(path)}: cannot be read as JSON (${reason}): expected an organization fixture (id, managementAccountId, roots, ous, accounts)`);
  }
  const parsed = fixtureSchema.safeParse(json, { reportInput: true });
  if (!parsed.success) {
    throw new Error(`--simulate ${shown(path)}: not an organization fixture:\n${specProblems(parsed.error).map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
  }
  const fixture = parsed.data;
  const units = new Map<string, { id: string; name: string; parentId?: string; depth: number }>();
  for (const root of fixture.roots) units.set(root.id, { id: root.id, name: root.name, depth: 0 });
  let pending = [...fixture.ous];
  while (pending.length > 0) {
    const next = pending.filter((ou) => !units.has(ou.parentId));
    if (next.length === pending.length) throw new Error(`--simulate: OUs with unknown parents: ${next.map((o) => o.id).join(', ')}`);
    for (const ou of pending.filter((o) => units.has(o.parentId))) units.set(ou.id, { ...ou, depth: units.get(ou.parentId)!.depth + 1 });
    pending = next;
  }
  return {
    organization: { id: fixture.id, arn: '', managementAccountId: fixture.managementAccountId },
    units,
    rootIds: fixture.roots.map((r) => r.id),
    accounts: fixture.accounts.map((a) => ({ ...a, tags: a.tags ?? {} })),
    depth: Math.max(0, ...[...units.values()].map((u) => u.depth)),
    calls: 0,
  };
}

async function authFor(spec: SpecFile, io: Io): Promise<ProwlerAuth> {
  if (spec.apiKey && 'secretArn' in spec.apiKey) {
    const region = spec.apiKey.secretArn.split(':')[3];
    return readProwlerAuth(new SecretsManagerClient({ region }), spec.apiKey.secretArn);
  }
  const variable = spec.apiKey && 'env' in spec.apiKey ? spec.apiKey.env : 'PROWLER_API_KEY';
  const key = io.env[variable]?.trim();
  if (!key) throw new Error(`The Prowler API key is not set: export ${variable} (or name a Secrets Manager secret in apiKey.secretArn)`);
  const problem = keyProblem(key, variable);
  if (problem) throw new Error(problem);
  return { apiKey: key };
}

/**
 * A progress bar for a terminal from the engine's progress lines ("registered 340 of 1200
 * accounts", "connection tests, round 1: 90 of 120 connected"), or undefined for other lines.
 */
export function progressBar(message: string, width = 30): string | undefined {
  const m = message.match(/^(registered|connection tests[^:]*:) (\d+) of (\d+)/);
  if (!m) return undefined;
  const [done, total] = [Number(m[2]), Number(m[3])];
  const filled = total === 0 ? width : Math.round((done / total) * width);
  const label = m[1] === 'registered' ? 'registered' : 'connected';
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${label}`;
}

async function run(spec: SpecFile, options: { dryRun: boolean; simulated?: OrganizationSnapshot }, io: Io): Promise<OnboardingReport> {
  const auth = await authFor(spec, io);
  // With a stateBucket: what this onboarding created and linked (so removal goes no further, and
  // `once` means once), and one writing run at a time, the same lease the construct's functions take.
  const bucket = spec.stateBucket;
  const store = bucket ? (io.store ?? ((name) => new S3JsonStore(new S3Client({ followRegionRedirects: true }), name)))(bucket) : undefined;
  const loadRecord = async () => (store ? (await store.load<OnboardingRecord>(STATE_KEYS.record)) ?? emptyRecord() : undefined);
  if (!store || options.dryRun) return onboardWith(spec, options, io, auth, await loadRecord());
  // Read under the lease (a sync may have added to it while this waited), and saved as the run
  // goes: a run that fails or is killed half-way has created providers all the same.
  return withLease(store, `s3://${bucket}/${STATE_KEYS.lease}`, io, async (held) =>
    onboardWith(spec, options, io, auth, await loadRecord(), (r) => store.save(STATE_KEYS.record, r), held.lost));
}

/** Runs `fn` holding the onboarding's lease; waits (as long as a lease lasts) while another run holds it. */
async function withLease<T>(store: JsonStore, where: string, io: Io, fn: (held: HeldLease) => Promise<T>): Promise<T> {
  const owner = `cli:${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  for (let waited = 0; ; waited++) {
    const lease = await acquireLease(store, owner, 'cli', Date.now());
    if (lease.acquired) break;
    // A live holder renews its lease; a dead one's ends within LEASE_TTL_MS.
    if (waited * LEASE_POLL_MS >= MAX_LEASE_WAIT_MS) {
      throw new Error(`${describeHolder(lease.holder)} (${where}): retry when it has finished`);
    }
    if (waited === 0 || waited % 15 === 0) io.err(`waiting: ${describeHolder(lease.holder)}\n`);
    await new Promise((resolve) => setTimeout(resolve, LEASE_POLL_MS));
  }
  const held = holdLease(store, owner, 'cli', Date.now);
  try {
    return await fn(held);
  } finally {
    await held.release();
  }
}

async function onboardWith(
  spec: SpecFile,
  options: { dryRun: boolean; simulated?: OrganizationSnapshot },
  io: Io,
  auth: ProwlerAuth,
  record: OnboardingRecord | undefined,
  saveRecord?: (record: OnboardingRecord) => Promise<void>,
  leaseLost?: () => boolean,
): Promise<OnboardingReport> {
  const progress = (message: string) => {
    if (options.dryRun) return;
    const bar = io.isTty ? progressBar(message) : undefined;
    if (bar) io.err(`\r\x1b[K${bar}`);
    else io.err(`${io.isTty ? '\r\x1b[K' : ''}${message}\n`);
  };
  const request = requestFromSpec(spec, { dryRun: options.dryRun });
  const deps: EngineDependencies = {
    organizations: new OrganizationsClient({ region: organizationsRegion('aws'), retryMode: 'adaptive', maxAttempts: 12 }),
    prowler: new ProwlerClient({ baseUrl: spec.prowlerApiUrl ?? PROWLER_CLOUD_API_URL, auth }),
    clock: realClock,
    log: { info: progress, warn: (m) => io.err(`warning: ${m}\n`) },
    discover: options.simulated ? async () => options.simulated! : undefined,
    record,
    checkpoint: saveRecord,
  };
  const state = await startRun(request, deps);
  // The engine saves the record before it creates providers, after each step, and when it fails.
  if (!options.dryRun) await continueRun(state, request, deps, { stop: leaseLost });
  if (leaseLost?.()) throw new Error('another run took this onboarding\'s lease while this one ran (it had stopped renewing it): run apply again');
  return toReport(state, deps.clock.now(), options.dryRun);
}

/** What apply would do, as a table, markdown (for a pull request) or JSON (the report's one shape). */
export function renderPlan(report: OnboardingReport, format: 'table' | 'markdown' | 'json'): string {
  if (format === 'json') return JSON.stringify(reportDocument(report), null, 2);
  const rows = report.accounts.map((a) => ({
    account: a.accountId,
    alias: a.alias,
    action: actionText(a),
    why: a.action === 'blocked' || a.action === 'keep-credentials' ? a.blockedBy ?? '' : a.reason,
    changes: a.selected && a.action !== 'blocked' && (a.writes?.length ?? 0) > 0,
  }));
  const departures = report.departures.map((d) => ({
    account: d.accountId, alias: d.alias ?? '', action: `leaves: provider ${d.outcome}`, why: d.reason, changes: d.outcome !== 'retained',
  }));
  const all = [...rows, ...departures];
  // Which Prowler, and on Prowler Cloud what the organization itself gets (created, credential, nodes).
  const edition = [...editionLines(report), ...(report.cloud ? cloudWrites(report.cloud).map((w) => `will ${w}`) : [])];
  const summary = planSummary(report);
  // No table without rows: a header alone reads as output cut short.
  const none = `No accounts: the organization ${report.organization.id} has none, and no provider leaves.`;
  if (format === 'markdown') {
    const escape = (t: string) => t.replace(/\|/g, '\\|');
    const table = (list: typeof all) => ['| Account | Alias | Action | Why |', '| --- | --- | --- | --- |', ...list.map((r) => `| ${r.account} | ${escape(r.alias)} | ${r.action} | ${escape(r.why)} |`)];
    const changing = all.filter((r) => r.changes || r.action === ACTION_WORDS.blocked || r.action === ACTION_WORDS['keep-credentials']);
    return [
      `### Prowler onboarding plan for \`${report.organization.id}\``,
      '',
      ...edition.map((l) => `${l}  `),
      `**${summary}**`,
      '',
      ...(changing.length > 0 ? table(changing) : ['No changes: apply would write nothing to Prowler.']),
      '',
      ...(all.length > 0 ? [`<details><summary>All ${all.length} accounts</summary>`, '', ...table(all), '', '</details>'] : [none]),
    ].join('\n');
  }
  const widths = [12, Math.max(5, ...all.map((r) => r.alias.length)), Math.max(6, ...all.map((r) => r.action.length))];
  const line = (cells: string[]) => cells.map((cell, i) => (i < widths.length ? cell.padEnd(widths[i]) : cell)).join('  ');
  if (all.length === 0) return [none, '', ...edition, summary].join('\n');
  return [line(['ACCOUNT', 'ALIAS', 'ACTION', 'WHY']), ...all.map((r) => line([r.account, r.alias, r.action, r.why])), '', ...edition, summary].join('\n');
}

export { hasChanges };

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** The command line, testable: returns the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  if (argv[0] === 'permissions') return permissionsCommand(argv.slice(1), io); // its own flags
  let parsed;
  try {
    parsed = parseArgs({
      args: withBooleanValues(argv),
      allowPositionals: true,
      options: {
        'format': { type: 'string', default: 'table' },
        'simulate': { type: 'string' },
        'yes': { type: 'boolean', default: false },
        'fail-on': { type: 'string' },
        'annotations': { type: 'string' },
        ...TEMPLATE_OPTIONS,
        'help': { type: 'boolean', short: 'h', default: false },
        'version': { type: 'boolean', short: 'v', default: false },
      },
    });
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${USAGE}\n`);
    return EXIT.FAILED;
  }
  const [command, file] = parsed.positionals;
  const o = parsed.values;
  if (o.version && !o.help) {
    io.out(`${VERSION}\n`);
    return EXIT.OK;
  }
  if (o.help || !command) {
    (o.help ? io.out : io.err)(`${USAGE}\n`);
    return o.help ? EXIT.OK : EXIT.FAILED;
  }
  let spec: SpecFile | undefined;
  let simulated: OrganizationSnapshot | undefined;
  let annotate = false;
  try {
    if (command === 'template') {
      if (file !== undefined) {
        io.err(`template takes no spec file, got '${file}' (a flag's value? lists are comma-separated: --organizational-unit-ids r-ab12,ou-ab12-abcdefgh)\n`);
        return EXIT.FAILED;
      }
      return templateCommand(o, io);
    }
    if (!['validate', 'plan', 'apply'].includes(command)) {
      io.err(`unknown command '${command}'\n\n${USAGE}\n`);
      return EXIT.FAILED;
    }
    if (!file) {
      io.err(`${command} needs a spec file\n\n${USAGE}\n`);
      return EXIT.FAILED;
    }
    // The options first: a usage error says nothing else.
    if (command !== 'validate' && !['table', 'markdown', 'json'].includes(o.format)) {
      io.err(`--format must be table, markdown or json, got '${o.format}'\n`);
      return EXIT.FAILED;
    }
    const applyOnly = (['fail-on', 'annotations'] as const).filter((flag) => o[flag] !== undefined);
    if (command !== 'apply' && applyOnly.length > 0) {
      io.err(`--${applyOnly[0]} is an option of apply, not of ${command}\n`);
      return EXIT.FAILED;
    }
    if (o['fail-on'] !== undefined && !(FAIL_ON as readonly string[]).includes(o['fail-on'])) {
      io.err(`--fail-on must be failed or skipped, got ${shown(o['fail-on'])}\n`);
      return EXIT.FAILED;
    }
    if (o.annotations !== undefined && !['github', 'none'].includes(o.annotations)) {
      io.err(`--annotations must be github or none, got ${shown(o.annotations)}\n`);
      return EXIT.FAILED;
    }
    const loaded = loadSpecFile(file);
    const problems = loaded.problems;
    spec = loaded.spec;
    if (!spec) {
      io.err(`${file}: ${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}\n`);
      return EXIT.FAILED;
    }
    if (spec.removal === 'destroy' && !spec.stateBucket) {
      io.err(`${file}: removal: 'destroy' needs stateBucket: without the onboarding's record in a bucket, nothing shows which providers `
        + 'this onboarding created, so none could ever be deleted safely. Add stateBucket (an S3 bucket this identity can read and write), '
        + 'or use removal: unlink or retain\n');
      return EXIT.FAILED;
    }
    // Said once, after what was asked for (validate and plan: apply's record is its own concern).
    const withoutStateBucket = !spec.stateBucket;
    const note = () => { if (withoutStateBucket) io.err(`note: ${WITHOUT_STATE_BUCKET}\n`); };
    if (command === 'validate') {
      io.out(`${file}: valid\n`);
      note();
      return EXIT.OK;
    }
    // The simulated organization is read before anything reaches Prowler.
    if (o.simulate !== undefined) simulated = snapshotFromFixture(o.simulate);
    if (command === 'plan') {
      const report = await run(spec, { dryRun: true, simulated }, io);
      io.out(`${renderPlan(report, o.format as 'table' | 'markdown' | 'json')}\n`);
      note();
      return hasChanges(report) ? EXIT.CHANGES : EXIT.OK;
    }
    // apply
    if (!o.yes) {
      if (!io.isTty) {
        io.err('apply changes Prowler: pass --yes to apply without a prompt (as in a pipeline)\n');
        return EXIT.FAILED;
      }
      if (!(await confirm(`Apply ${file} to Prowler at ${spec.prowlerApiUrl ?? PROWLER_CLOUD_API_URL}? [y/N] `))) {
        io.err('nothing applied\n');
        return EXIT.FAILED;
      }
    }
    annotate = (o.annotations ?? (io.env.GITHUB_ACTIONS === 'true' ? 'github' : 'none')) === 'github';
    const report = await run(spec, { dryRun: false, simulated }, io);
    if (io.isTty) io.err('\n');
    const failOn = o['fail-on'] as FailOn | undefined;
    // Workflow commands go to stdout, as GitHub documents; with --format json, stdout is the report's alone.
    if (annotate) (o.format === 'json' ? io.err : io.out)(applyAnnotations(report, failOn).map((line) => `${line}\n`).join(''));
    io.out(`${o.format === 'json' ? JSON.stringify(reportDocument(report), null, 2) : renderSummary(report)}\n`);
    if (report.outcome !== 'succeeded') return EXIT.FAILED;
    const failing = failOn ? failingAccounts(report, failOn) : [];
    if (failOn && failing.length > 0) {
      io.err(`${failOnMessage(failOn, failing)}\n`);
      return EXIT.ACCOUNTS;
    }
    return EXIT.OK;
  } catch (caught) {
    const error = spec ? explainRejectedKey(caught, keySource(spec)) : caught;
    const message = isMissingCredentials(error) ? missingCredentialsMessage(error, spec, simulated !== undefined) : (error as Error).message;
    if (annotate) (o.format === 'json' ? io.err : io.out)(`${githubAnnotation('error', 'Prowler onboarding', message)}\n`);
    io.err(`error: ${message}\n`);
    return EXIT.FAILED;
  }
}

/* istanbul ignore next: the binary's entry */
if (require.main === module) {
  main(process.argv.slice(2), {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    env: process.env,
    isTty: Boolean(process.stderr.isTTY && process.stdin.isTTY),
  }).then((code) => exitAfterFlush(code), (error) => {
    process.stderr.write(`error: ${(error as Error).message}\n`);
    return exitAfterFlush(1);
  });
}

/**
 * Exits once everything written has reached the pipes: an empty write's callback comes after the
 * writes before it (process.exit right after writing cut a 5,000-account plan piped to jq).
 */
async function exitAfterFlush(code: number): Promise<void> {
  const drained = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => stream.write('', () => resolve()));
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  process.exit(code);
}
