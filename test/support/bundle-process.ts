/**
 * The shipped Lambda bundle (lib/handler-bundle/index.js) run as Lambda runs it: one `node`
 * process per invocation, on the Lambda's Node (./lambda-node.ts), with only the function's environment, so a test can SIGKILL it at any
 * point; and the lease such a killed invocation leaves in the state bucket, made to look expired
 * (the time a test cannot wait for).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { lambdaNode } from './lambda-node';

/** The shipped bundle; CRASH_MATRIX_BUNDLE runs another build of it (say, one of an older commit, for comparison). */
export const BUNDLE_PATH = process.env.CRASH_MATRIX_BUNDLE ?? join(__dirname, '..', '..', 'lib', 'handler-bundle', 'index.js');

/** The line the runner prints the entry point's answer on. */
const RESULT_MARK = '@@lambda-result ';

/**
 * The runner: loads the bundle, calls one entry point with the event (argv, base64 JSON) and a
 * Lambda context, prints the answer, and exits (Lambda would freeze the process; open sockets
 * must not keep it alive).
 */
const RUNNER = `'use strict';
const [bundle, entry, payload, remainingMs, requestId] = process.argv.slice(2);
const event = JSON.parse(Buffer.from(payload, 'base64').toString('utf8'));
const started = Date.now();
const context = {
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:prowler-org-onboarding-' + entry.toLowerCase(),
  functionName: 'prowler-org-onboarding-' + entry.toLowerCase(),
  awsRequestId: requestId,
  getRemainingTimeInMillis: () => Number(remainingMs) - (Date.now() - started),
};
let loadedMs;
const done = (answer, code) => {
  answer.loadMs = loadedMs;
  answer.runMs = Date.now() - started - loadedMs;
  process.stdout.write('\\n' + ${JSON.stringify(RESULT_MARK)} + JSON.stringify(answer) + '\\n', () => process.exit(code));
};
Promise.resolve()
  .then(() => {
    const handler = require(bundle);
    loadedMs = Date.now() - started;
    return handler[entry](event, context);
  })
  .then((value) => done({ ok: true, value: value === undefined ? null : value }, 0),
    (error) => done({ ok: false, error: String((error && error.message) || error) }, 1));
`;

let runnerPath: string | undefined;
function runner(): string {
  if (!runnerPath) {
    runnerPath = join(mkdtempSync(join(tmpdir(), 'bundle-runner-')), 'run.js');
    writeFileSync(runnerPath, RUNNER);
  }
  return runnerPath;
}

export type Invocation =
  | { readonly outcome: 'returned'; readonly value: any; readonly ms: number; readonly runMs?: number }
  | { readonly outcome: 'threw'; readonly error: string; readonly ms: number; readonly runMs?: number }
  /** SIGKILLed by the test (or the hang guard), or died without an answer. */
  | { readonly outcome: 'killed' | 'hung' | 'died'; readonly ms: number; readonly output: string };

export interface InvokeOptions {
  /** What Lambda says is left (the function's timeout). */
  readonly remainingMs: number;
  /** Called with the process once it is spawned (the test kills it from there). */
  readonly onSpawn?: (child: ChildProcess) => void;
  /** A process still running after this long is killed and reported `hung` (default 180 s). */
  readonly hangMs?: number;
}

/**
 * Invokes `entry` of the bundle in a process of its own. `environment` is all it gets besides
 * PATH: the function's variables and the AWS_* ones (the endpoint, credentials and region).
 */
export async function invokeBundle(entry: string, event: unknown, environment: Record<string, string>, options: InvokeOptions): Promise<Invocation> {
  const started = Date.now();
  const payload = Buffer.from(JSON.stringify(event)).toString('base64');
  const requestId = `${started.toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  const child = spawn(lambdaNode(), [runner(), BUNDLE_PATH, entry, payload, String(options.remainingMs), requestId], {
    env: { PATH: process.env.PATH ?? '', ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => { output = (output + chunk.toString()).slice(-20_000); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let hung = false;
  const guard = setTimeout(() => { hung = true; child.kill('SIGKILL'); }, options.hangMs ?? 180_000);
  options.onSpawn?.(child);
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (c, s) => resolve({ code: c, signal: s }));
  });
  clearTimeout(guard);
  const ms = Date.now() - started;
  if (hung) return { outcome: 'hung', ms, output };
  if (signal === 'SIGKILL') return { outcome: 'killed', ms, output };
  const line = output.split('\n').reverse().find((l) => l.startsWith(RESULT_MARK));
  if (!line) return { outcome: 'died', ms, output: `exit ${code} ${signal ?? ''}\n${output}` };
  const answer = JSON.parse(line.slice(RESULT_MARK.length)) as { ok: boolean; value?: unknown; error?: string; runMs?: number };
  return answer.ok ? { outcome: 'returned', value: answer.value, ms, runMs: answer.runMs } : { outcome: 'threw', error: answer.error ?? '', ms, runMs: answer.runMs };
}

/**
 * A numeric field of a lease that says until when it holds, or when its holder last showed it was
 * alive: `expiresAt`, `heartbeatAt`, `renewedAt`, `validUntil`, … (not `since`: when it was taken).
 */
const TIME_FIELD = /expir|heartbeat|renew|until|deadline|valid|alive|lastSeen/i;

/**
 * The lease as it reads once its time has passed: every numeric expiry or heartbeat time in it set
 * to 0, at any depth; every other field (owner, kind, since, a fencing counter) kept. Returns the
 * fields it changed, and how many such times it saw (0 ones included).
 */
export function expiredLease(lease: unknown): { lease: unknown; changed: string[]; times: number } {
  const changed: string[] = [];
  let times = 0;
  const walk = (value: unknown, path: string): unknown => {
    if (Array.isArray(value)) return value.map((v, i) => walk(v, `${path}[${i}]`));
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([key, v]) => {
      const at = path ? `${path}.${key}` : key;
      if (typeof v === 'number' && TIME_FIELD.test(key)) {
        times++;
        if (v !== 0) changed.push(at);
        return [key, 0];
      }
      return [key, walk(v, at)];
    }));
  };
  return { lease: walk(lease, ''), changed, times };
}

/** What `expireLease` found: no lease object, or the lease and the fields it set to 0 (none: released already). */
export type ExpiredLease = { readonly found: false } | { readonly found: true; readonly changed: string[]; readonly lease: unknown };

/**
 * Makes the lease object at `key` expired, as real time would after the invocation that held it
 * was killed. Returns what it found: absent (nothing held), or the fields it changed (none: it was
 * released). A lease with no numeric time in it is an error (the harness would otherwise wait for
 * it for minutes): its content is in the message.
 */
export async function expireLease(s3: S3Client, bucket: string, key: string): Promise<ExpiredLease> {
  let text: string;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    text = await object.Body!.transformToString();
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return { found: false };
    throw error;
  }
  const before = JSON.parse(text) as unknown;
  const { lease, changed, times } = expiredLease(before);
  if (times === 0) throw new Error(`expireLease: no numeric expiry or heartbeat field in the lease ${text}: teach expiredLease its fields`);
  if (changed.length > 0) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(lease), ContentType: 'application/json' }));
  }
  return { found: true, changed, lease: before };
}
