/**
 * Two copies of this package in one program (a job module installed in another project than the
 * program that restores it) each have their own snapshot classes, so neither recognises the other's
 * snapshots and every state looks changed. Core's snapshots carry where their copy is installed, so
 * that comparing across copies can say so.
 */

const INSTALLED_AT = Symbol.for('stateshift.core.installedAt');

/** This copy's directory (the package root), as a path where it is a file URL. */
const HERE = (() => {
  const url = new URL('..', import.meta.url);
  return url.protocol === 'file:' ? decodeURIComponent(url.pathname) : url.href;
})();

/** Marks the instances of a snapshot class as made by this copy. */
export function madeByThisCopy(snapshotClass: { prototype: object }): void {
  Object.defineProperty(snapshotClass.prototype, INSTALLED_AT, { value: HERE });
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
