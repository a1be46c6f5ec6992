/** TTL as the heap backend applies it: values wrapped with their write time, hidden once expired. */
import type { TtlConfig, TtlValue } from '@stateshift/core';

export class Expiry {
  constructor(
    private readonly config: TtlConfig | undefined,
    private readonly now: () => number,
  ) {}

  get enabled(): boolean {
    return !!this.config;
  }

  wrap(value: unknown): unknown {
    return this.config ? ({ value, timestamp: this.now() } satisfies TtlValue<unknown>) : value;
  }

  /** The value if still alive (refreshing its time when reads count), else `EXPIRED`. */
  read(stored: unknown): unknown {
    if (!this.config) return stored;
    const wrapped = stored as TtlValue<unknown>;
    const now = this.now();
    if (wrapped.timestamp + this.config.ttlMs <= now) return EXPIRED;
    if (this.config.update === 'onReadAndWrite') wrapped.timestamp = now;
    return wrapped.value;
  }

  alive(stored: unknown, now = this.now()): boolean {
    return !this.config || (stored as TtlValue<unknown>).timestamp + this.config.ttlMs > now;
  }
}

export const EXPIRED: unique symbol = Symbol('expired');
