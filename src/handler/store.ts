/**
 * Where a run's state lives between invocations: JSON objects in the onboarding's own S3
 * bucket. The Provider framework's polls carry no state of their own. Conditional writes (S3's
 * `If-None-Match: *` and `If-Match: <etag>`) let two invocations agree on who runs (lease.ts).
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/** A value and the version it was read at (S3's ETag). */
export interface Versioned<T> {
  readonly value: T;
  readonly version: string;
}

export interface JsonStore {
  load<T>(key: string): Promise<T | undefined>;
  save(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  /** The value with its version, for a conditional write. */
  loadVersioned<T>(key: string): Promise<Versioned<T> | undefined>;
  /**
   * Writes only if the key is still at `version` (`undefined`: only if it does not exist).
   * `false` when another writer got there first.
   */
  saveIf(key: string, value: unknown, version: string | undefined): Promise<boolean>;
}

export class S3JsonStore implements JsonStore {
  constructor(private readonly s3: S3Client, private readonly bucket: string) {}

  async load<T>(key: string): Promise<T | undefined> {
    return (await this.loadVersioned<T>(key))?.value;
  }

  async loadVersioned<T>(key: string): Promise<Versioned<T> | undefined> {
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return { value: JSON.parse(await object.Body!.transformToString('utf8')) as T, version: object.ETag ?? '' };
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

  async saveIf(key: string, value: unknown, version: string | undefined): Promise<boolean> {
    try {
      await this.s3.send(new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: JSON.stringify(value),
        ContentType: 'application/json',
        ...(version === undefined ? { IfNoneMatch: '*' } : { IfMatch: version }),
      }));
      return true;
    } catch (error) {
      const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      // 412: the condition failed; 409: another conditional write to the key was in flight.
      if (e.$metadata?.httpStatusCode === 412 || e.$metadata?.httpStatusCode === 409 || e.name === 'PreconditionFailed' || e.name === 'ConditionalRequestConflict') return false;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}

/** An in-memory store (tests, the CLI), with the same conditional writes. */
export class MemoryJsonStore implements JsonStore {
  readonly objects = new Map<string, string>();
  private readonly versions = new Map<string, number>();
  private writes = 0;

  async load<T>(key: string): Promise<T | undefined> {
    return (await this.loadVersioned<T>(key))?.value;
  }
  async loadVersioned<T>(key: string): Promise<Versioned<T> | undefined> {
    const text = this.objects.get(key);
    return text === undefined ? undefined : { value: JSON.parse(text) as T, version: String(this.versions.get(key)) };
  }
  async save(key: string, value: unknown): Promise<void> {
    this.objects.set(key, JSON.stringify(value));
    this.versions.set(key, ++this.writes);
  }
  async saveIf(key: string, value: unknown, version: string | undefined): Promise<boolean> {
    const current = this.versions.get(key);
    if (version === undefined ? current !== undefined : String(current) !== version) return false;
    await this.save(key, value);
    return true;
  }
  async delete(key: string): Promise<void> {
    this.objects.delete(key);
    this.versions.delete(key);
  }
}
