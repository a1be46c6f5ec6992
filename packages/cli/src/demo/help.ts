/** `stateshift demo --help`, apart from the demo itself: the demo's imports load only when it runs. */
export const demoHelp = `stateshift demo [--orders n] [--keep]

Runs the upgrade story of the Flink articles stateshift follows, in a temporary directory: an
orders job on the LSM backend stops with a savepoint; version 2 changes orderId from string to int
and adds a field; check refuses it and says why; with a converter check passes; version 2 restores
eagerly, lazily and in place and carries on; inspect shows the final savepoint. --orders sets how many orders
version 1 processes (default 20000); --keep leaves the directory.`;
