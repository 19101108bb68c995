/**
 * A hostile (or merely careless) server: error pages that echo the request's Authorization header
 * and body, and redirects. Nothing secret may reach an error message, and nothing is re-sent
 * elsewhere. Each test fails with redaction or the redirect policy taken out.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ProwlerClient, redactSecret } from '../../src/handler/prowler-api';
import { fakeClock } from '../../testing/harness';

const KEY = 'pk_Hx7Q2mZr.eyJ0b2tlbiI6InNlY3JldC1wYXlsb2FkLW9mLXRoZS1rZXkifQ';
const ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

/** What the hostile server answers, given the request it received (with its body). */
type Behaviour = (req: IncomingMessage, body: string) => { status: number; headers?: Record<string, string>; body: string };

interface Received {
  method: string;
  path: string;
  body: string;
  authorization?: string;
}

async function hostile(behaviour: Behaviour): Promise<{ url: string; received: Received[]; stop(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ method: req.method ?? '', path: req.url ?? '', body, authorization: req.headers.authorization });
      const answer = behaviour(req, body);
      res.writeHead(answer.status, { 'Content-Type': 'text/html', ...(answer.headers ?? {}) }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`,
    received,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const client = (url: string) => new ProwlerClient({
  baseUrl: url, auth: { apiKey: KEY }, clock: fakeClock(), maxAttempts: 1, secrets: [ACCESS_KEY_ID, SECRET_ACCESS_KEY],
});
/** Every 8-character window of each secret found in `text` (none may be). */
const secretParts = (text: string) => [KEY, ACCESS_KEY_ID, SECRET_ACCESS_KEY]
  .flatMap((secret) => Array.from({ length: secret.length - 7 }, (_, i) => secret.slice(i, i + 8)))
  .filter((part) => text.includes(part));

describe('a server that echoes secrets or redirects', () => {
  test('an error page echoing the Authorization header near the 200-character cut shows none of the key', async () => {
    // The key starts at character 158: a cut at 200 before redacting would leave 41 of its characters.
    const server = await hostile((req) => ({ status: 400, body: `${'x'.repeat(135)}Authorization: ${req.headers.authorization}` }));
    try {
      const error: Error = await client(server.url).getProvider('p1').catch((e) => e);
      expect(error.message).toMatch(/400/);
      expect(secretParts(error.message)).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  test('an error quoting the submitted secret shows neither the key nor the static credentials', async () => {
    const server = await hostile((req, body) => ({
      status: 400, headers: { 'Content-Type': 'application/vnd.api+json' }, body: JSON.stringify({ errors: [{ detail: `Invalid secret: ${body} (sent with ${req.headers.authorization})` }] }),
    }));
    try {
      const provider = { id: 'p1', type: 'providers' as const, attributes: { provider: 'aws', uid: '111111111111' } };
      const error: Error = await client(server.url)
        .putRoleSecret(provider, { role_arn: 'arn:aws:iam::111111111111:role/ProwlerScan', external_id: 'e', aws_access_key_id: ACCESS_KEY_ID, aws_secret_access_key: SECRET_ACCESS_KEY })
        .catch((e) => e);
      expect(error.message).toMatch(/Prowler said: Invalid secret/);
      expect(secretParts(error.message)).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  test('a 307 to another origin is not followed: the secret is not sent again, anywhere', async () => {
    const elsewhere = await hostile(() => ({ status: 201, body: '{}' }));
    const server = await hostile(() => ({ status: 307, headers: { Location: `${elsewhere.url}/providers/secrets?token=${KEY}` }, body: '' }));
    try {
      const provider = { id: 'p1', type: 'providers' as const, attributes: { provider: 'aws', uid: '111111111111' } };
      const error: Error = await client(server.url)
        .putRoleSecret(provider, { role_arn: 'arn:aws:iam::111111111111:role/ProwlerScan', external_id: 'e', aws_secret_access_key: SECRET_ACCESS_KEY })
        .catch((e) => e);
      expect(error.message).toMatch(/answered 307, a redirect to http:\/\/127\.0\.0\.1:\d+\/api\/v1\/providers\/secrets, which is not followed/);
      expect(elsewhere.received).toEqual([]);
      expect(secretParts(error.message)).toEqual([]);
    } finally {
      await server.stop();
      await elsewhere.stop();
    }
  });

  test('a server that always announces one more page is stopped after the pages its count allows', async () => {
    let n = 0;
    const page = (number: number, ids: () => string) => JSON.stringify({
      data: Array.from({ length: 100 }, () => ({ id: ids(), type: 'providers', attributes: { provider: 'aws', uid: '111111111111' } })),
      meta: { pagination: { page: number, pages: number + 1, count: 250 } },
    });
    const endless = await hostile((req) => ({ status: 200, headers: { 'Content-Type': 'application/vnd.api+json' }, body: page(Number(new URL(req.url!, 'http://x').searchParams.get('page[number]')), () => `p-${n++}`) }));
    const stuck = await hostile(() => ({ status: 200, headers: { 'Content-Type': 'application/vnd.api+json' }, body: page(1, () => `same-${n++ % 100}`) }));
    try {
      await expect(client(endless.url).findAwsProviders(['111111111111'])).rejects.toThrow(/GET \/providers announced page 5 of 5 after reporting 250 items: stopped paginating/);
      expect(endless.received).toHaveLength(4); // 3 pages hold 250 items, and one more for items added meanwhile
      await expect(client(stuck.url).findAwsProviders(['111111111111'])).rejects.toThrow(/answered page 2 with only items of earlier pages/);
      expect(stuck.received).toHaveLength(2);
    } finally {
      await endless.stop();
      await stuck.stop();
    }
  });

  test('a page of 200,000 items is read without overflowing the stack', async () => {
    const big = JSON.stringify({
      data: Array.from({ length: 200_000 }, (_, i) => ({ id: `p-${i}`, type: 'providers', attributes: { provider: 'aws', uid: '111111111111' } })),
      meta: { pagination: { page: 1, pages: 1, count: 200_000 } },
    });
    const server = await hostile(() => ({ status: 200, headers: { 'Content-Type': 'application/vnd.api+json' }, body: big }));
    try {
      expect((await client(server.url).providersInGroup('g')).length).toBe(200_000);
    } finally {
      await server.stop();
    }
  }, 30_000);

  test('a body that trickles in is a timeout: retried, and the request ends within its budget', async () => {
    const sockets: Array<import('node:http').ServerResponse> = [];
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/vnd.api+json' });
      res.write('{"data": [');
      sockets.push(res); // the rest never comes
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
    try {
      const slow = new ProwlerClient({ baseUrl: url, auth: { apiKey: KEY }, timeoutMs: 200, requestBudgetMs: 1500, baseDelayMs: 10, maxDelayMs: 20 });
      const started = Date.now();
      await expect(slow.providersInGroup('g')).rejects.toThrow(/GET \/api\/v1\/providers: its answer did not arrive whole within 0.2 s/);
      const elapsed = Date.now() - started;
      expect(sockets.length).toBeGreaterThan(1); // retried
      expect(elapsed).toBeLessThan(2500);
    } finally {
      for (const res of sockets) res.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('redactSecret hides the whole secret and any cut of it of 8 characters or more', () => {
    expect(redactSecret(`key=${KEY}.`, KEY)).toBe('key=[redacted].');
    expect(redactSecret(`…${KEY.slice(0, 20)}`, KEY)).toBe('…[redacted]');
    expect(redactSecret(`${KEY.slice(-9)} tail`, KEY)).toBe('[redacted] tail');
    expect(redactSecret(`${KEY.slice(0, 7)} short`, KEY)).toBe(`${KEY.slice(0, 7)} short`); // too short to tell from text
  });
});
