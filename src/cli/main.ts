/**
 * The `whirl` command: dispatches `whirl <noun> <verb> ...` to its module. Server processes (standalone,
 * controller, invoker) and admin commands live with the server code; everything else talks to the REST API.
 */
import { UsageError } from '../server/flags.js';

type Command = (argv: string[]) => Promise<number | void>;

const commands: Record<string, () => Promise<Command>> = {
  standalone: async () => (await import('../server/standalone.js')).runStandalone,
  admin: async () => (await import('../server/admin.js')).runAdmin,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const load = name === undefined ? undefined : commands[name];
  if (load === undefined) {
    process.stderr.write(`Usage: whirl <command> ...\nCommands: ${Object.keys(commands).join(', ')}\n`);
    return name === undefined ? 0 : 2;
  }
  try {
    const code = await (await load())(rest);
    return typeof code === 'number' ? code : 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // Long-running commands (servers) keep the event loop alive; short ones exit with their status.
    if (code !== 0) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  },
);
