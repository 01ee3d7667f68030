/** Plain one-line logging to stderr for the server processes (keys and parameters are never passed here). */
const stamp = () => new Date().toISOString();

export const log = {
  info: (msg: string): void => void process.stderr.write(`${stamp()} whirl: ${msg}\n`),
  warn: (msg: string): void => void process.stderr.write(`${stamp()} whirl WARNING: ${msg}\n`),
  error: (msg: string): void => void process.stderr.write(`${stamp()} whirl ERROR: ${msg}\n`),
};
