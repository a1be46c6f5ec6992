/** Keys in error messages: readable, bounded, never throwing. */
export function formatKey(key: unknown): string {
  let text: string;
  try {
    text =
      typeof key === 'string'
        ? JSON.stringify(key)
        : typeof key === 'bigint'
          ? `${key}n`
          : key instanceof Uint8Array
            ? `0x${Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex')}`
            : typeof key === 'object' && key !== null
              ? JSON.stringify(key, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Map ? Object.fromEntries(v) : v))
              : String(key);
  } catch {
    text = Object.prototype.toString.call(key);
  }
  // Control characters are escaped: keys come from stored data.
  // eslint-disable-next-line no-control-regex
  text = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
