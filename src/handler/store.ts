/**
 * Where a run's state lives between invocations: one JSON object in the onboarding's own S3
 * bucket. The Provider framework's polls carry no state of their own.
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

export interface JsonStore {
  load<T>(key: string): Promise<T | undefined>;
  save(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
}

export class S3JsonStore implements JsonStore {
  constructor(private readonly s3: S3Client, private readonly bucket: string) {}

  async load<T>(key: string): Promise<T | undefined> {
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return JSON.parse(await object.Body!.transformToString('utf8')) as T;
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'NoSuchKey') return undefined;
      if (name === 'AccessDenied') {
        throw new Error(`S3 denied reading s3://${this.bucket}/${key} (AccessDenied): the function's role needs s3:GetObject on the bucket's objects `
          + 'and s3:ListBucket on the bucket (without it, S3 answers 403 instead of 404 for an object that does not exist yet)');
      }
      throw error;
    }
  }

  async save(key: string, value: unknown): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: JSON.stringify(value), ContentType: 'application/json' }));
  }

  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}

/** An in-memory store (tests, the CLI). */
export class MemoryJsonStore implements JsonStore {
  readonly objects = new Map<string, string>();
  async load<T>(key: string): Promise<T | undefined> {
    const text = this.objects.get(key);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }
  async save(key: string, value: unknown): Promise<void> {
    this.objects.set(key, JSON.stringify(value));
  }
  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }
}
