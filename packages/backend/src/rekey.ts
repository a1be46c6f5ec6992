/**
 * Re-keying during a restore, with collisions found and never resolved silently: when keys,
 * namespaces or map keys migrate, entries are grouped by their new key and by the old key they came
 * from; a new key with two origins (or a new map key with two old map keys) is a collision, which
 * fails with KeyCollisionError naming the keys unless the state gives `mergeOnCollision`.
 *
 * The entries of a re-keyed operator are held until the operator is read whole (a later entry may
 * collide with an earlier one), then handed on merged.
 */
import { formatKey } from '@stateshift/core';
import { describeKeyBytes, keyCollisionError, mergeCollided, type DecodedEntry, type OperatorPlan, type RawEntry } from '@stateshift/savepoint';
import type { OperatorSlot, StateSlot } from './slots.js';

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

interface Origin {
  oldKey: Uint8Array;
  /** [new map key id, map key, stored value, old map key bytes] per entry; map key and its id unused outside map state. */
  items: [string, unknown, unknown, Uint8Array][];
}

interface Group {
  key: unknown;
  namespace: unknown;
  origins: Map<string, Origin>;
}

/** What a restored row becomes: stored values (list: elements; map: [mapKey, value] pairs). */
export type RekeyedRow =
  | { type: 'value'; key: unknown; namespace: unknown; stored: unknown }
  | { type: 'list'; key: unknown; namespace: unknown; stored: unknown[] }
  | { type: 'map'; key: unknown; namespace: unknown; stored: [unknown, unknown][] };

export class RekeyStage {
  private readonly groups = new Map<StateSlot, Map<string, Group>>();

  constructor(
    private readonly plan: OperatorPlan,
    private readonly op: OperatorSlot,
    private readonly served: (keyGroup: number) => boolean,
  ) {}

  /** Adds a decoded entry; entries whose new key another instance serves are left out. */
  add(slot: StateSlot, raw: RawEntry, entry: DecodedEntry): void {
    const at = this.op.locateUnchecked(entry.key, entry.namespace);
    if (!this.served(at.keyGroup)) return;
    let bySlot = this.groups.get(slot);
    if (!bySlot) this.groups.set(slot, (bySlot = new Map()));
    const id = latin1(at.keyNs);
    let group = bySlot.get(id);
    if (!group) bySlot.set(id, (group = { key: entry.key, namespace: entry.namespace, origins: new Map() }));
    const oldId = `${latin1(raw.key)}\u0000${latin1(raw.namespace)}`;
    let origin = group.origins.get(oldId);
    if (!origin) group.origins.set(oldId, (origin = { oldKey: raw.key.slice(), items: [] }));
    const mapKeyId = slot.descriptor.type === 'map' ? latin1(slot.encodeMapKey(entry.mapKey)) : '';
    origin.items.push([mapKeyId, entry.mapKey, entry.value, raw.mapKey.slice()]);
  }

  /** Every row, merged where the state allows, in no particular order. */
  *rows(): Generator<[StateSlot, RekeyedRow]> {
    for (const [slot, bySlot] of this.groups) {
      for (const group of bySlot.values()) yield [slot, this.merge(slot, group)];
    }
  }

  private merge(slot: StateSlot, group: Group): RekeyedRow {
    const origins = [...group.origins.values()];
    const { key, namespace } = group;
    const merge = slot.descriptor.options.mergeOnCollision as ((a: unknown, b: unknown) => unknown) | undefined;
    const type = slot.descriptor.type;
    const how = merge && { merge, ttl: !!slot.ttl, list: type === 'list', writer: slot.writer };
    const where = `operator "${this.plan.uid}" state "${slot.name}" key ${formatKey(key)}`;
    if (origins.length > 1 && !how && type !== 'map') throw this.collision(slot, 'key', key, origins.map((o) => o.oldKey));
    if (type === 'value') {
      const values = origins.map((o) => [o.items[0][2]]);
      return { type, key, namespace, stored: values.length > 1 ? mergeCollided(where, how!, values)[0] : values[0][0] };
    }
    if (type === 'list') {
      const lists = origins.map((o) => o.items.map((i) => i[2]));
      return { type, key, namespace, stored: lists.length > 1 ? mergeCollided(where, how!, lists) : lists[0] };
    }
    // Map state: entries of every origin by new map key; two for one map key is a collision.
    const byMapKey = new Map<string, { mapKey: unknown; stored: unknown; oldKey: Uint8Array; oldMapKey: Uint8Array }>();
    for (const origin of origins) {
      for (const [id, mapKey, stored, oldMapKey] of origin.items) {
        const seen = byMapKey.get(id);
        if (!seen) {
          byMapKey.set(id, { mapKey, stored, oldKey: origin.oldKey, oldMapKey });
          continue;
        }
        if (!how) {
          throw seen.oldKey !== origin.oldKey
            ? this.collision(slot, 'key', key, [seen.oldKey, origin.oldKey])
            : this.collision(slot, 'map key', mapKey, [seen.oldMapKey, oldMapKey]);
        }
        seen.stored = mergeCollided(`${where} map key ${formatKey(mapKey)}`, how, [[seen.stored], [stored]])[0];
      }
    }
    return { type, key, namespace, stored: [...byMapKey.values()].map((e) => [e.mapKey, e.stored]) };
  }

  private collision(slot: StateSlot, what: 'key' | 'map key', newKey: unknown, oldKeys: Uint8Array[]) {
    const reader =
      what === 'key' ? this.plan.metadata!.key.restoreSerializer() : this.plan.metadata!.states.find((s) => s.name === slot.name)!.mapKey!.restoreSerializer();
    return keyCollisionError(this.plan.uid, slot.name, what, newKey, oldKeys.map((k) => describeKeyBytes(reader, k)));
  }
}
