/**
 * Which converter helps with an incompatible change, by the serializer it is in. Serializers word their
 * problems for values ("give the state a `migrate` converter"); a key, namespace or map key changed
 * the same way needs another converter, declared elsewhere, and the restore plan rewords the advice.
 */

/** Each serializer role's converter: where it is declared, its option name, what it converts. */
const CONVERTERS: Readonly<Record<string, { owner: string; converter: string; converts: string }>> = {
  key: { owner: 'operator', converter: 'migrateKey', converts: 'keys' },
  namespace: { owner: 'operator', converter: 'migrateNamespace', converts: 'namespaces' },
  mapKey: { owner: 'map state', converter: 'migrateKey', converts: 'map keys' },
  value: { owner: 'state', converter: 'migrate', converts: 'values' },
};
const ROLES = Object.keys(CONVERTERS);

/** A role as a restore plan names it ("value v2" is a value): its converter, if one helps. */
const converterOf = (role: string) => CONVERTERS[role.split(' ')[0]];

const adviceOf = ({ owner, converter }: { owner: string; converter: string }) => `give the ${owner} a \`${converter}\` converter`;

const VALUE_ADVICE = adviceOf(CONVERTERS.value);

/** The converter advice for several roles, once each, keys first: the order a user fixes them in. */
export function convertersAdvice(roles: readonly string[]): string[] {
  const present = new Set(roles.map((r) => r.split(' ')[0]));
  return ROLES.filter((r) => present.has(r)).map((r) => adviceOf(CONVERTERS[r]));
}

/** A serializer's problem message, written for values, reworded for the serializer it was found in. */
export function adviceForRole(message: string, role: string): string {
  const entry = converterOf(role);
  if (!entry || entry === CONVERTERS.value) return message;
  return message.replaceAll(VALUE_ADVICE, adviceOf(entry)).replaceAll('`migrate` converter', `\`${entry.converter}\` converter`);
}

/** What a role's converter does, as a change: "keys converted by the operator's migrateKey function". */
export function convertedBy(role: string): string {
  const { owner, converter, converts } = converterOf(role);
  return `${converts} converted by the ${owner}'s ${converter} function`;
}
