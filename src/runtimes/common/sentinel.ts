// The end-of-activation marker, and the proxy's own writes to the activation logs.
//
// The invoker reads an activation's logs from the sandbox's stdout and stderr up to this line on
// BOTH streams, so it is written after every /run and after a failed /init, on a line of its own.
// Writes go through the process streams (not raw fds) so that they stay ordered after whatever the
// action wrote; on Linux, writes to pipes and files are synchronous, so the markers are out before
// the HTTP response leaves.

export const SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';

type Writer = (text: string) => void;

let writeOut: Writer = (text) => void process.stdout.write(text);
let writeErr: Writer = (text) => void process.stderr.write(text);

/**
 * Log tagging patches process.stdout/stderr.write; it hands the original writers over here so that
 * the proxy's own lines are not tagged a second time.
 */
export function useRawWriters(out: Writer, err: Writer): void {
  writeOut = out;
  writeErr = err;
}

/** The prefix that attributes a log line to one activation when log tagging is on. */
export function logTag(activationId: string): string {
  return `[[whirl:${activationId}]] `;
}

/** Writes the marker on stdout then stderr, with an optional activation tag in front. */
export function writeSentinels(tag = ''): void {
  const line = `${tag}${SENTINEL}\n`;
  writeOut(line);
  writeErr(line);
}

/** A line of the proxy's own on stdout (becomes part of the activation's logs). */
export function logOut(line: string): void {
  writeOut(line.endsWith('\n') ? line : `${line}\n`);
}

/** A line of the proxy's own on stderr (becomes part of the activation's logs). */
export function logErr(line: string): void {
  writeErr(line.endsWith('\n') ? line : `${line}\n`);
}
