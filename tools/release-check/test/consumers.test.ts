import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createConsumer, packAll, type Consumer } from '../src/index.js';

/** The user scripts under test/consumers/, by file name. */
const scripts = (...names: string[]) =>
  Object.fromEntries(names.map((n) => [n, readFileSync(new URL(`./consumers/${n}`, import.meta.url), 'utf8')]));

/** The lockfile paths of stateshift packages and of the format libraries behind them. */
const ADAPTER_LIBRARIES = ['avsc', 'protobufjs', 'thrift', 'msgpackr', 'classic-level'];
function installedOf(consumer: Consumer): { stateshift: string[]; libraries: string[] } {
  const names = consumer.installed().map((p) => p.replace(/^.*node_modules\//, ''));
  return {
    stateshift: names.filter((n) => n.startsWith('@stateshift/')).sort(),
    libraries: names.filter((n) => ADAPTER_LIBRARIES.includes(n)).sort(),
  };
}

describe('packages installed from tarballs into fresh projects', () => {
  let tarballs: Map<string, string>;
  let heapAvro: Consumer;
  let lsmProtobuf: Consumer;

  beforeAll(() => {
    tarballs = packAll();
    heapAvro = createConsumer('heap-avro', ['@stateshift/core', '@stateshift/avro', '@stateshift/backend-heap'], tarballs, scripts('heap-avro.mjs', 'missing-adapter.mjs'));
    lsmProtobuf = createConsumer('lsm-protobuf', ['@stateshift/core', '@stateshift/protobuf', '@stateshift/backend-lsm'], tarballs, scripts('lsm-protobuf.mjs'));
  });

  it('core + avro + backend-heap: a savepoint restores after a field is added', () => {
    const result = heapAvro.node('heap-avro.mjs');
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).order).toEqual({ orderId: 'o-1', amount: 12.5, currency: 'EUR' });
  });

  it('core + avro + backend-heap installs nothing it did not ask for', () => {
    expect(installedOf(heapAvro)).toEqual({
      stateshift: ['@stateshift/avro', '@stateshift/backend', '@stateshift/backend-heap', '@stateshift/core', '@stateshift/savepoint'],
      libraries: ['avsc'],
    });
  });

  it('core + protobuf + backend-lsm: a savepoint restores after a field is added', () => {
    const result = lsmProtobuf.node('lsm-protobuf.mjs');
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).order).toEqual({ order_id: 'o-1', amount: 12.5, currency: '' });
  });

  it('core + protobuf + backend-lsm installs nothing it did not ask for', () => {
    expect(installedOf(lsmProtobuf)).toEqual({
      stateshift: ['@stateshift/backend', '@stateshift/backend-lsm', '@stateshift/core', '@stateshift/protobuf', '@stateshift/savepoint'],
      libraries: ['classic-level', 'protobufjs'],
    });
  });

  it('a savepoint needing an adapter that is not installed fails naming the package to install', () => {
    const written = lsmProtobuf.node('lsm-protobuf.mjs');
    expect(written.status, written.stderr).toBe(0);
    const result = heapAvro.node('missing-adapter.mjs', [JSON.parse(written.stdout).savepoint]);
    expect(result.status, result.stderr).toBe(0);
    const error = JSON.parse(result.stdout);
    expect(error.name).toBe('MissingAdapterError');
    expect(error.message).toContain('@stateshift/protobuf');
  });
});
