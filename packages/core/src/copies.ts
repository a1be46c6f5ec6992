/**
 * Two copies of this package in one program (a job module installed in another project than the
 * program that restores it) each have their own snapshot classes, so neither recognises the other's
 * snapshots and every state looks changed. Core's snapshots carry where their copy is installed, so
 * that comparing across copies can say so.
 */

const INSTALLED_AT = Symbol.for('stateshift.core.installedAt');

/** A package root as a path where it is a file URL. */
function rootPath(root: URL): string {
  return root.protocol === 'file:' ? decodeURIComponent(root.pathname) : root.href;
}

/** This copy of core's directory (the package root). */
const CORE_ROOT = new URL('..', import.meta.url);

/**
 * Marks the instances of a snapshot class as made by the copy of its package installed at `root`
 * (core's own by default). An adapter marks its snapshot class with its package root, for instance
 * `madeByThisCopy(AvroSnapshot, new URL('..', import.meta.url))` from a module one level below it,
 * so that a restore that meets two copies of the adapter names where each is installed.
 */
export function madeByThisCopy(snapshotClass: { prototype: object }, root: URL = CORE_ROOT): void {
  Object.defineProperty(snapshotClass.prototype, INSTALLED_AT, { value: rootPath(root) });
}

/**
 * Whether `a` and `b` are the same kind of snapshot from two copies of the package that defines it:
 * same kind and class name, different classes.
 */
export function fromTwoCopies(a: object & { kind: string }, b: object & { kind: string }): boolean {
  return a.kind === b.kind && a.constructor !== b.constructor && a.constructor.name === b.constructor.name;
}

/** Where the copy that made a snapshot is installed, when it says. */
export function installedAt(snapshot: object): string | undefined {
  const at = (snapshot as Record<symbol, unknown>)[INSTALLED_AT];
  return typeof at === 'string' ? at : undefined;
}
