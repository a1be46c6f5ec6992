import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataInput, DataOutput, putVarUint, varUintLength } from '../src/index.js';

describe('putVarUint and varUintLength (framing written straight into a buffer)', () => {
  it('write the bytes DataOutput.writeVarUint writes, as many as varUintLength says, and DataInput reads them back', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.nat(16), (n, at) => {
        const out = new DataOutput(16);
        out.writeVarUint(n);
        const expected = out.toBytes();
        const buf = new Uint8Array(at + 10).fill(0xee);
        const end = putVarUint(buf, at, n);
        expect(end - at).toBe(varUintLength(n));
        expect(buf.subarray(at, end)).toEqual(expected);
        expect(buf.subarray(0, at).every((b) => b === 0xee)).toBe(true);
        expect(new DataInput(buf.subarray(at, end)).readVarUint()).toBe(n);
      }),
    );
  });

  it.each([
    [0, 1],
    [0x7f, 1],
    [0x80, 2],
    [0x3fff, 2],
    [0x4000, 3],
    [2 ** 32, 5],
    [Number.MAX_SAFE_INTEGER, 8],
  ])('%d takes %d bytes', (n, length) => {
    expect(varUintLength(n)).toBe(length);
  });
});
