/**
 * The `whirl` command: dispatches `whirl <noun> <verb> ...` to its module. Server processes (standalone,
 * controller, invoker) and admin commands live with the server code; everything else talks to the REST API.
 */
import { UsageError } from '../core/errors.js';
import { didYouMean } from './args.js';
import { endQuietlyOnClosedPipes } from './pipes.js';

type Command = (argv: string[]) => Promise<number | void>;

const commands: Record<string, () => Promise<Command>> = {
  standalone: async () => (await import('../server/standalone.js')).runStandalone,
  controller: async () => (await import('../server/controller.js')).runController,
  invoker: async () => (await import('../server/invoker.js')).runInvoker,
  admin: async () => (await import('../server/admin.js')).runAdmin,
  runtimes: async () => (await import('../server/runtimes.js')).runRuntimes,
  action: async () => (await import('./commands/action.js')).actionCommand,
  package: async () => (await import('./commands/package.js')).packageCommand,
  trigger: async () => (await import('./commands/trigger.js')).triggerCommand,
  rule: async () => (await import('./commands/rule.js')).ruleCommand,
  api: async () => (await import('./commands/api.js')).apiCommand,
  project: async () => (await import('./commands/project.js')).projectCommand,
  activation: async () => (await import('./commands/activation.js')).activationCommand,
  namespace: async () => (await import('./commands/namespace.js')).namespaceCommand,
  list: async () => (await import('./commands/list.js')).listCommand,
  property: async () => (await import('./commands/property.js')).propertyCommand,
  completion: async () => (await import('./commands/completion.js')).completionCommand,
  help: async () => (await import('./commands/help.js')).helpCommand,
  '--help': async () => (await import('./commands/help.js')).helpCommand,
  '-h': async () => (await import('./commands/help.js')).helpCommand,
  '--version': async () => (await import('./commands/help.js')).versionCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  let load = name === undefined ? undefined : commands[name];
  // A global flag before the command (`whirl -v action list`, `whirl --apihost=URL list`): the command is
  // found after it.
  if (load === undefined && name?.startsWith('-'))
    load = async () => (await import('./commands/help.js')).leadingFlag(name);
  if (load === undefined) {
    const names = Object.keys(commands).filter((c) => !c.startsWith('-'));
    if (name === undefined) {
      process.stderr.write(
        `Usage: whirl <command> ...\nCommands: ${names.join(', ')}\nRun 'whirl --help' for more.\n`,
      );
      return 0;
    }
    process.stderr.write(
      `error: unknown command '${name}'${didYouMean(name, names)}\n` +
        `Commands: ${names.join(', ')}\nRun 'whirl --help' for more.\n`,
    );
    return 2;
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

endQuietlyOnClosedPipes();
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
