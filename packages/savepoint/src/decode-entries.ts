/**
 * Turning stored entries into the new job's values, by a restore plan: keys, namespaces and map
 * keys through their readers (re-keyed when they migrate), values through the reader of their own
 * schema version. Backends, offline migration and dumps through a new job all read this way.
 */
import { ConverterError, DataInput, DecodeError, formatKey, type Deserializer } from '@stateshift/core';
import type { RawEntry } from './data-file.js';
import type { OperatorPlan, StatePlan } from './restore-plan.js';

export interface DecodedEntry {
  state: StatePlan;
  key: unknown;
  namespace: unknown;
  /** Map state only. */
  mapKey: unknown;
  /** The stored value as the new job sees it (TTL-wrapped when the state has a TTL). */
  value: unknown;
}

function read(reader: Deserializer<unknown>, bytes: Uint8Array, what: string): unknown {
  const input = new DataInput(bytes);
  const value = reader.deserialize(input);
  if (!input.atEnd) throw new DecodeError(`${what}: ${input.remaining} bytes left after reading the value`, input.offset);
  return value;
}

/**
 * A decoder of one matched operator's entries. Returns undefined for entries of dropped states.
 * Errors name the operator, state and key group.
 */
export interface EntryDecoderOptions {
  /**
   * Decode keys and namespaces (default true). A reader that writes the key bytes on unchanged and
   * never looks at the key (a rewrite that neither re-keys nor transforms) leaves them undefined.
   */
  keys?: boolean;
}

export function entryDecoder(plan: OperatorPlan, options: EntryDecoderOptions = {}): (entry: RawEntry) => DecodedEntry | undefined {
  if (plan.status !== 'matched') throw new TypeError(`operator "${plan.uid}" is ${plan.status}; only matched operators have entries to restore`);
  const bySavepointIndex = new Map<number, StatePlan>();
  for (const s of plan.states) if (s.savepointIndex !== undefined && s.status === 'restored') bySavepointIndex.set(s.savepointIndex, s);
  const keyReader = options.keys === false ? undefined : plan.key!.reader!;
  const namespaceReader = options.keys === false ? undefined : plan.namespace?.reader;
  return (entry) => {
    const state = bySavepointIndex.get(entry.state);
    if (!state) return undefined;
    // Named only when something fails: a string per entry cost a migration about a tenth of its time.
    const where = () => `operator "${plan.uid}" state "${state.state}" key group ${entry.keyGroup}`;
    const version = state.values.find((v) => v.version === entry.version);
    if (!version?.reader) throw new DecodeError(`${where()}: an entry names schema version ${entry.version}, which the savepoint metadata does not list`, 0);
    try {
      return {
        state,
        key: keyReader ? read(keyReader, entry.key, 'key') : undefined,
        namespace: namespaceReader ? read(namespaceReader, entry.namespace, 'namespace') : undefined,
        mapKey: state.mapKey?.reader ? read(state.mapKey.reader, entry.mapKey, 'map key') : undefined,
        value: read(version.reader, entry.value, 'value'),
      };
    } catch (error) {
      // The key as stored (a key converter may be what failed), by the savepoint's own serializer.
      if (error instanceof ConverterError) {
        throw new ConverterError(`${error.message} (key group ${entry.keyGroup}, key ${describeKeyBytes(plan.metadata!.key.restoreSerializer(), entry.key)})`, { cause: error });
      }
      if (error instanceof DecodeError) throw new DecodeError(`${where()}: ${error.message.replace(/ \(at byte offset \d+\)$/, "")}`, error.offset, { cause: error });
      throw error;
    }
  };
}

/** A stored key for an error message: decoded when it can be, else its bytes in hex. */
export function describeKeyBytes(reader: Deserializer<unknown>, bytes: Uint8Array): string {
  try {
    return formatKey(reader.deserialize(new DataInput(bytes)));
  } catch {
    return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex').slice(0, 64)}`;
  }
}
