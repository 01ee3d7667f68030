/**
 * `whirl action list | head -1`: when the reader goes away, writing to stdout fails with EPIPE. That is
 * the reader's choice, not a failure of the command, so the CLI stops quietly instead of dying with a
 * stack trace (the way `cat` and `ls` end on SIGPIPE, but with exit code 0 so `set -o pipefail` scripts
 * are not failed by an early `head`).
 */
import type { Writable } from 'node:stream';

function isEpipe(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'EPIPE';
}

/**
 * Installs the handlers on one process's streams: stdout gone ends the process (code 0, nothing more can
 * be shown); stderr gone only silences the messages, the command carries on and keeps its exit code.
 */
export function endQuietlyOnClosedPipes(
  stdout: Writable = process.stdout,
  stderr: Writable = process.stderr,
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  stdout.on('error', (err) => {
    if (!isEpipe(err)) throw err;
    exit(0);
  });
  stderr.on('error', (err) => {
    if (!isEpipe(err)) throw err;
  });
}
