// The orders story at the level of one serializer: a state written by version 1, the schema
// changed by version 2, the verdict decided from the stored snapshot, the old bytes read back.
// Run after `pnpm build`: node packages/core/examples/upgrade.js
import {
  DataInput,
  DataOutput,
  int32,
  int64,
  list,
  readerFor,
  resolveSchemaCompatibility,
  snapshotFromBytes,
  snapshotToBytes,
  string,
  tuple,
} from '@stateshift/core';

// Version 1 keeps (orderId, quantities) with int32 quantities.
const v1 = tuple(string(), list(int32()));
const out = new DataOutput();
v1.serialize(['o-1', [2, 3]], out);
const storedBytes = out.toBytes();
const storedSnapshot = snapshotToBytes(v1.snapshot()); // written beside the data

// Version 2 widens quantities to int64; orderId stays a string.
const v2 = tuple(string(), list(int64()));
const verdict = resolveSchemaCompatibility(v2.snapshot(), snapshotFromBytes(storedSnapshot));
console.log('v1 > v2:', verdict.type, verdict.changes?.map((c) => `${c.path}: ${c.message}`));
const value = readerFor(verdict, v2).deserialize(new DataInput(storedBytes));
console.log('restored:', value);

// Version 3 makes orderId an int32: refused before any data is read, naming where.
const v3 = tuple(int32(), list(int64()));
const refused = resolveSchemaCompatibility(v3.snapshot(), snapshotFromBytes(storedSnapshot));
console.log('v1 > v3:', refused.type, refused.type === 'incompatible' ? refused.problems.map((p) => `${p.path}: ${p.message}`) : []);
