// Preloaded into each migrate process the bench starts (node --import): at exit, the process's CPU
// time (every thread) goes to the file BENCH_CPU_FILE names.
import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  const { user, system } = process.cpuUsage();
  writeFileSync(process.env.BENCH_CPU_FILE, String((user + system) / 1e6));
});
