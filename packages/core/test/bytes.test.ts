import { expect, test } from 'vitest';
import { DataOutput, EncodeError } from '../src/index.js';

test('float32 writes round to the nearest float32 and refuse a finite number beyond its range', () => {
  for (const write of ['writeFloat32', 'writeFloat32LE'] as const) {
    const out = new DataOutput(8);
    out[write](1.1);
    out[write](3.4e38);
    out[write](Infinity);
    out[write](NaN);
    expect(out.length).toBe(16);
    expect(() => out[write](1e40)).toThrow(EncodeError);
    expect(() => out[write](-3.5e38)).toThrow(/beyond float's range/);
    expect(out.length).toBe(16);
  }
});
