/**
 * Virtual time for simulations: a clock whose sleeps are timers on a virtual timeline, advanced
 * only when every piece of work is waiting, so an hour of onboarding runs in seconds while
 * concurrency, latencies and deadlines keep their meaning.
 */
import type { ProwlerApiDouble } from './prowler-api-double';
import type { Clock } from '../src/handler/prowler-api';

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly resolve: () => void;
}

export class VirtualClock implements Clock {
  private current = 0;
  private seq = 0;
  private timers: Timer[] = [];

  now(): number {
    return this.current;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = { at: this.current + Math.max(0, ms), seq: this.seq++, resolve };
      // Sorted insert (timers are few at a time: one per lane).
      let i = this.timers.length;
      while (i > 0 && (this.timers[i - 1].at > timer.at || (this.timers[i - 1].at === timer.at && this.timers[i - 1].seq > timer.seq))) i--;
      this.timers.splice(i, 0, timer);
    });
  }

  /**
   * Runs `work` to completion: whenever nothing can proceed (every task awaits a timer), time
   * jumps to the next timer. Real I/O must not be involved (use in-process doubles).
   */
  async run<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    work.then(() => (settled = true), () => (settled = true));
    while (!settled) {
      // Let every runnable continuation run (several macrotask turns, for libraries that defer).
      for (let i = 0; i < 4 && !settled; i++) await new Promise((resolve) => setImmediate(resolve));
      if (settled) break;
      const next = this.timers.shift();
      if (!next) throw new Error('virtual time: the work waits for something that is not a timer (real I/O?)');
      this.current = next.at;
      next.resolve();
    }
    return work;
  }
}

/** A fetch that serves the double in-process, charging each request `latencyMs` of virtual time. */
export function inProcessFetch(double: ProwlerApiDouble, clock: VirtualClock, latencyMs: number): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    await clock.sleep(latencyMs);
    const url = new URL(String(input instanceof Request ? input.url : input));
    const headers = new Headers(init?.headers);
    const answer = double.dispatch(init?.method ?? 'GET', url, {
      authorization: headers.get('authorization') ?? undefined,
      contentType: headers.get('content-type') ?? undefined,
    }, typeof init?.body === 'string' ? init.body : '');
    return new Response(answer.status === 204 ? null : answer.body ?? null, { status: answer.status, headers: answer.headers });
  }) as typeof fetch;
}

/**
 * A virtual rate limit like Organizations': at most `perSecond` calls start in any virtual second.
 * (A throttled call in reality costs a retry; here the caller simply waits its turn.)
 */
export function virtualRateLimit(clock: VirtualClock, perSecond: number): () => Promise<void> {
  const starts: number[] = [];
  return async () => {
    for (;;) {
      const now = clock.now();
      while (starts.length > 0 && starts[0] <= now - 1000) starts.shift();
      if (starts.length < perSecond) {
        starts.push(now);
        return;
      }
      await clock.sleep(starts[0] + 1000 - now);
    }
  };
}
