import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { STATE_KEYS } from '../../src/core/onboarding';
import { acquireLease, releaseLease, type Lease } from '../../src/handler/lease';
import { MemoryJsonStore, S3JsonStore } from '../../src/handler/store';

describe('the lease: one run of an onboarding at a time', () => {
  test('free: taken; held: refused, naming the holder; renewed by its owner; taken over once expired', async () => {
    const store = new MemoryJsonStore();
    expect(await acquireLease(store, 'deploy:1', 'deploy', 1_000, 60_000)).toEqual({ acquired: true });
    expect(await acquireLease(store, 'sync:a', 'sync', 2_000, 60_000)).toEqual({ acquired: false, holder: { owner: 'deploy:1', kind: 'deploy', since: 1_000, heartbeatAt: 1_000, expiresAt: 61_000 } });
    expect(await acquireLease(store, 'deploy:1', 'deploy', 30_000, 60_000)).toEqual({ acquired: true }); // renewed
    expect(await store.load<Lease>(STATE_KEYS.lease)).toMatchObject({ since: 1_000, heartbeatAt: 30_000, expiresAt: 90_000 });
    expect(await acquireLease(store, 'sync:a', 'sync', 90_001, 60_000)).toEqual({ acquired: true }); // its holder died
  });

  test('released by its owner only', async () => {
    const store = new MemoryJsonStore();
    await acquireLease(store, 'sync:a', 'sync', 0, 60_000);
    await releaseLease(store, 'sync:b');
    expect((await acquireLease(store, 'deploy:1', 'deploy', 1, 60_000)).acquired).toBe(false);
    await releaseLease(store, 'sync:a');
    expect((await acquireLease(store, 'deploy:1', 'deploy', 1, 60_000)).acquired).toBe(true);
  });

  test('ten at once: exactly one gets it', async () => {
    const store = new MemoryJsonStore();
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => acquireLease(store, `sync:${i}`, 'sync', 0, 60_000)));
    expect(answers.filter((a) => a.acquired)).toHaveLength(1);
  });

  test('on S3, a lost conditional write (412, or 409 for a concurrent one) is "someone else", not an error', async () => {
    const s3 = mockClient(S3Client);
    try {
      const store = new S3JsonStore(new S3Client({ region: 'us-east-1' }), 'state');
      s3.on(PutObjectCommand).rejectsOnce(Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } }))
        .rejectsOnce(Object.assign(new Error('conflict'), { name: 'ConditionalRequestConflict', $metadata: { httpStatusCode: 409 } }))
        .resolves({});
      expect(await store.saveIf('locks/run.json', {}, undefined)).toBe(false);
      expect(await store.saveIf('locks/run.json', {}, '"etag-1"')).toBe(false);
      expect(await store.saveIf('locks/run.json', {}, '"etag-1"')).toBe(true);
      expect(s3.commandCalls(PutObjectCommand).map((c) => [c.args[0].input.IfNoneMatch, c.args[0].input.IfMatch])).toEqual([['*', undefined], [undefined, '"etag-1"'], [undefined, '"etag-1"']]);
    } finally {
      s3.restore();
    }
  });
});
