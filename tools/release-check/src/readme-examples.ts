/**
 * README examples: every ```js block in a package README is a complete ES module that runs as is
 * once the workspace is built. Other languages (```ts, ```sh, ```text) are not run.
 */
import { readFileSync } from 'node:fs';

export interface Example {
  /** 1-based line of the opening fence, for failure messages. */
  line: number;
  code: string;
}

export function extractExamples(readmePath: string): Example[] {
  const lines = readFileSync(readmePath, 'utf8').split('\n');
  const examples: Example[] = [];
  let open: { line: number; body: string[] } | undefined;
  lines.forEach((text, i) => {
    if (open) {
      if (/^\s*```\s*$/.test(text)) {
        examples.push({ line: open.line, code: open.body.join('\n') + '\n' });
        open = undefined;
      } else open.body.push(text);
    } else if (/^\s*```(js|javascript|mjs)\s*$/.test(text)) open = { line: i + 1, body: [] };
  });
  return examples;
}
