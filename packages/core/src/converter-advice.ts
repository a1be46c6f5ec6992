/**
 * Which converter helps with an incompatible change, by the serializer it is in. Serializers word their
 * problems for values ("give the state a `migrate` converter"); a key, namespace or map key changed
 * the same way needs another converter, declared elsewhere, and the restore plan rewords the advice.
 */

const VALUE_ADVICE = 'give the state a `migrate` converter';

const ADVICE: Readonly<Record<string, { advice: string; converter: string }>> = {
  key: { advice: 'give the operator a `migrateKey` converter', converter: '`migrateKey`' },
  namespace: { advice: 'give the operator a `migrateNamespace` converter', converter: '`migrateNamespace`' },
  mapKey: { advice: 'give the map state a `migrateKey` converter', converter: '`migrateKey`' },
  value: { advice: VALUE_ADVICE, converter: '`migrate`' },
};
const ROLES = Object.keys(ADVICE);

/** The converter advice for several roles, once each, keys first: the order a user fixes them in. */
export function convertersAdvice(roles: readonly string[]): string[] {
  const present = new Set(roles.map((r) => r.split(' ')[0]));
  return ROLES.filter((r) => present.has(r)).map((r) => ADVICE[r].advice);
}

/** A serializer's problem message, written for values, reworded for the serializer it was found in. */
export function adviceForRole(message: string, role: string): string {
  const entry = ADVICE[role.split(' ')[0]];
  if (!entry || entry.advice === VALUE_ADVICE) return message;
  return message.replaceAll(VALUE_ADVICE, entry.advice).replaceAll('`migrate` converter', `${entry.converter} converter`);
}
