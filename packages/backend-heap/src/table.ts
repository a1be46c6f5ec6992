/**
 * One state's entries in memory: by key group, then by key (and namespace) bytes. Values are kept as
 * objects; with a TTL, as `{ value, timestamp }` (list: per element; map: per value).
 */
export interface Row {
  key: unknown;
  namespace: unknown;
  /** Value state: the value. List state: the elements. Map state: map-key id to [mapKey, value]. */
  data: unknown;
}

export class StateTable {
  readonly groups = new Map<number, Map<string, Row>>();

  get(keyGroup: number, id: string): Row | undefined {
    return this.groups.get(keyGroup)?.get(id);
  }

  set(keyGroup: number, id: string, row: Row): void {
    let group = this.groups.get(keyGroup);
    if (!group) this.groups.set(keyGroup, (group = new Map()));
    group.set(id, row);
  }

  delete(keyGroup: number, id: string): void {
    const group = this.groups.get(keyGroup);
    if (!group) return;
    group.delete(id);
    if (!group.size) this.groups.delete(keyGroup);
  }

  *rows(): Generator<Row> {
    for (const group of this.groups.values()) yield* group.values();
  }
}
