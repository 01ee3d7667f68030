/** What the host offers every sandbox backend: its commands on PATH and its python3. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The command's path on PATH, or undefined. */
export function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const p = join(dir, cmd);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** The host's python3: the system one first, since it lives under /usr and needs no extra mount. */
export function findPython(): string | undefined {
  for (const p of ['/usr/bin/python3', '/usr/local/bin/python3']) if (existsSync(p)) return p;
  return which('python3');
}
