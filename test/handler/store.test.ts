import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { S3JsonStore } from '../../src/handler/store';

const BUCKET = 'prowler-org-onboarding-state';
/** What the SDK's response body offers the store. */
const body = (text: string) => ({ transformToString: async () => text });

describe('S3JsonStore (the run state between invocations)', () => {
  const s3 = mockClient(S3Client);
  const store = new S3JsonStore(new S3Client({ region: 'us-east-1' }), BUCKET);
  afterEach(() => s3.reset());
  afterAll(() => s3.restore());

  test('a saved value reads back; it is written as JSON to the bucket and key', async () => {
    s3.on(PutObjectCommand).resolves({});
    await store.save('runs/sync.json', { phase: 'test', round: 2 });
    expect(s3.commandCalls(PutObjectCommand)[0].args[0].input).toEqual({
      Bucket: BUCKET, Key: 'runs/sync.json', Body: '{"phase":"test","round":2}', ContentType: 'application/json',
    });
    s3.on(GetObjectCommand, { Bucket: BUCKET, Key: 'runs/sync.json' }).resolves({ Body: body('{"phase":"test","round":2}') as never });
    expect(await store.load('runs/sync.json')).toEqual({ phase: 'test', round: 2 });
  });

  test('a key that does not exist (404 NoSuchKey) reads as undefined', async () => {
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }));
    expect(await store.load('runs/sync.json')).toBeUndefined();
  });

  test('a 403 is never taken for a missing key: it fails, naming the permission S3 wants', async () => {
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    await expect(store.load('runs/sync.json')).rejects.toThrow(
      /S3 denied reading s3:\/\/prowler-org-onboarding-state\/runs\/sync.json \(AccessDenied\): .*s3:ListBucket on the bucket \(without it, S3 answers 403 instead of 404/,
    );
  });

  test('other errors pass through unchanged', async () => {
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('Slow Down'), { name: 'SlowDown' }));
    await expect(store.load('x')).rejects.toThrow('Slow Down');
  });

  test('delete removes the key', async () => {
    s3.on(DeleteObjectCommand).resolves({});
    await store.delete('onboarding/current.json');
    expect(s3.commandCalls(DeleteObjectCommand)[0].args[0].input).toEqual({ Bucket: BUCKET, Key: 'onboarding/current.json' });
  });
});
