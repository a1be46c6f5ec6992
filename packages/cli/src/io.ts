/** Where commands write, and how: colour and progress only on a terminal, JSON in a documented form. */
import { once } from 'node:events';
import { watchInterruptions } from './interrupt.js';

export interface Io {
  /** Returns false when the output is full: await `drain` before writing more. */
  out(text: string): boolean | void;
  drain?(): Promise<void>;
  err(text: string): void;
  /** stdout is a terminal (tables may use colour). */
  tty: boolean;
  /** stderr is a terminal (progress bars are drawn). */
  errTty: boolean;
  color: boolean;
}

/** The process's own output; Ctrl-C and a reader that goes away (`stateshift inspect ... | head`) end the command as interrupt.ts says. */
export function processIo(): Io {
  watchInterruptions();
  const tty = !!process.stdout.isTTY;
  return {
    out: (t) => process.stdout.write(t),
    drain: async () => {
      await once(process.stdout, 'drain');
    },
    err: (t) => process.stderr.write(t),
    tty,
    errTty: !!process.stderr.isTTY,
    color: tty && !process.env.NO_COLOR && process.env.TERM !== 'dumb',
  };
}

const codes = { red: 31, green: 32, yellow: 33, bold: 1, dim: 2, cyan: 36 } as const;
export type Style = keyof typeof codes;

export function paint(io: Io, style: Style, text: string): string {
  return io.color ? `\u001b[${codes[style]}m${text}\u001b[0m` : text;
}

/**
 * Values as JSON: bigint as {"$bigint": "12"}, bytes as {"$bytes": base64}, Map as {"$map": [[k, v]]},
 * Set as {"$set": [...]}, numbers JSON has no literal for (NaN, ±Infinity, -0) as {"$number": "NaN"}
 * (JSON.stringify would print null and 0); everything else as JSON.stringify does.
 */
export function toJson(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0) ? value : { $number: Object.is(value, -0) ? '-0' : String(value) };
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (value instanceof Map) return { $map: [...value].map(([k, v]) => [toJson(k), toJson(v)]) };
  if (value instanceof Set) return { $set: [...value].map(toJson) };
  if (Array.isArray(value)) return value.map(toJson);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
  return value;
}

/** JSON escapes C0 controls itself; C1 controls and bidirectional overrides are escaped too. */
export function json(value: unknown, pretty = false): string {
  const text = JSON.stringify(toJson(value), null, pretty ? 2 : undefined).replace(
    /[\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return `${text}\n`;
}

/** A plain text table: columns padded to their widest cell. */
export function table(io: Io, header: string[], rows: string[][]): string {
  const strip = (s: string) => s.replace(/\u001b\[\d+m/g, '');
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => strip(r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c + ' '.repeat(widths[i] - strip(c).length)).join('  ').trimEnd();
  return [paint(io, 'bold', line(header)), ...rows.map(line)].join('\n') + '\n';
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/**
 * `report(done, total)` at most every 100 ms, and always once `done` reaches `total` (no total:
 * never): for progress sent to a terminal or to another thread or process, where every call costs.
 */
export function everyTenthSecond(report: (done: number, total: number) => void): (done: number, total?: number) => void {
  let last = 0;
  return (done, total = Infinity) => {
    const now = Date.now();
    if (now - last < 100 && done < total) return;
    last = now;
    report(done, total);
  };
}

/** A progress bar on stderr, drawn only when stderr is a terminal. */
export function progressBar(io: Io, label: string) {
  const started = Date.now();
  const draw = everyTenthSecond((done, total) => {
    const now = Date.now();
    const width = 30;
    const ratio = total ? Math.min(1, done / total) : 0;
    const filled = Math.round(ratio * width);
    const rate = done / Math.max(0.001, (now - started) / 1000);
    // Erase to the end of the line: a shorter line than the last would leave its tail behind.
    io.err(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(ratio * 100).toFixed(0)}% ${done}/${total} ${Math.round(rate)}/s\x1b[K`);
  });
  return {
    update(done: number, total: number) {
      if (io.errTty) draw(done, total);
    },
    done() {
      if (io.errTty) io.err('\n');
    },
  };
}
