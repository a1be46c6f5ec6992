/**
 * Text from a savepoint (job, operator and state names, schema text, package names) is data, not
 * terminal input: control characters are shown escaped, and a package name is shown only when it is
 * a valid npm package name.
 */

// C0 controls, DEL, C1 controls, and the bidirectional overrides and isolates.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  if (c === '\n') return '\\n';
  if (c === '\t') return '\\t';
  if (c === '\r') return '\\r';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** A name or value for one line of human output: every control character escaped. */
export function safe(text: string): string {
  return text.replace(CONTROL, escapeChar);
}

/** A message of several lines (an error): control characters escaped, line breaks kept. */
export function safeLines(text: string): string {
  return text.replace(CONTROL_BUT_NEWLINE, escapeChar);
}

const NPM_NAME = /^(?:@[a-z0-9~-][a-z0-9._~-]*\/)?[a-z0-9~-][a-z0-9._~-]*$/;

/** Whether `name` is a valid npm package name (so it can be pasted into `npm install`). */
export function isValidPackageName(name: string): boolean {
  return name.length > 0 && name.length <= 214 && NPM_NAME.test(name);
}

/** Package names recorded in savepoints read here that are not valid npm package names. */
const invalidNames = new Set<string>();

/** Notes a recorded package name; an invalid one is redacted from every message from now on. */
export function notePackageName(name: string): boolean {
  const valid = isValidPackageName(name);
  if (!valid) invalidNames.add(name);
  return valid;
}

/** `text` with every invalid recorded package name replaced (so none reaches an install hint). */
export function redactPackageNames(text: string): string {
  let out = text;
  for (const name of invalidNames) out = out.split(name).join('(a package name that is not a valid npm package name)');
  return out;
}

/** The same for a JSON-able report: names are redacted in every string inside it. */
export function redactInReport<T>(report: T): T {
  if (!invalidNames.size) return report;
  let text = JSON.stringify(report);
  for (const name of invalidNames) text = text.split(JSON.stringify(name).slice(1, -1)).join('(a package name that is not a valid npm package name)');
  return JSON.parse(text) as T;
}
