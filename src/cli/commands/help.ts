/**
 * `whirl --help`, `whirl help [COMMAND]`, `whirl --version`, and command lines that begin with a global
 * flag (`whirl -v action list`, `whirl --apihost URL list`): the flag is kept, the command found after it.
 */
import { didYouMean, flagHelp } from '../args.js';
import { firstPositional, GLOBAL_FLAGS } from '../command.js';
import { exitCodeHelp, ExitCode } from '../exit-codes.js';
import { processIO, type IO } from '../output.js';
import { cliVersion } from '../version.js';
import { SERVER_COMMANDS, USER_COMMANDS, type Command } from './index.js';

export function generalHelp(): string {
  const all = {
    ...Object.fromEntries(Object.entries(USER_COMMANDS).map(([k, v]) => [k, v.summary])),
    ...SERVER_COMMANDS,
  };
  const width = Math.max(...Object.keys(all).map((k) => k.length)) + 2;
  return [
    `Whirl ${cliVersion()}: an OpenWhisk-compatible serverless platform. The CLI works like 'wsk'.`,
    '',
    'Usage: whirl <command> [<subcommand>] [flags]',
    '',
    'Commands:',
    ...Object.entries(all).map(([k, v]) => `  ${k.padEnd(width)}${v}`),
    '',
    'Global flags (accepted anywhere on the command line):',
    flagHelp(GLOBAL_FLAGS),
    '',
    'Settings come from flags, then WHISK_AUTH / WHISK_APIHOST / WHISK_APIVERSION, then ~/.wskprops',
    '(or the file named by WSK_CONFIG_FILE); see `whirl property --help`.',
    '',
    'Exit codes:',
    exitCodeHelp(),
    '',
    `Run 'whirl <command> --help' for more about a command.`,
    '',
  ].join('\n');
}

/** Every command name `whirl` knows, for suggestions. */
function commandNames(): string[] {
  return [...Object.keys(USER_COMMANDS), ...Object.keys(SERVER_COMMANDS)];
}

export async function helpCommand(argv: string[], io: IO = processIO): Promise<number> {
  const topic = argv.find((a) => !a.startsWith('-'));
  const entry = topic === undefined ? undefined : USER_COMMANDS[topic];
  if (entry !== undefined) return (await entry.load())(['--help']);
  if (topic !== undefined && !(topic in SERVER_COMMANDS)) {
    io.err(
      `error: unknown command '${topic}'${didYouMean(topic, commandNames())}\n` +
        `Run 'whirl --help' for the list of commands.\n`,
    );
    return ExitCode.Usage;
  }
  if (topic !== undefined) {
    io.out(`Run 'whirl ${topic} --help'.\n`);
    return ExitCode.Ok;
  }
  io.out(generalHelp());
  return ExitCode.Ok;
}

export async function versionCommand(_argv: string[], io: IO = processIO): Promise<number> {
  io.out(`whirl ${cliVersion()}\n`);
  return ExitCode.Ok;
}

/** The `main.ts` entry for a global flag in first position: `flag` is that flag, `rest` what followed it. */
export function leadingFlag(flag: string): Command {
  return async (rest: string[]) => {
    const argv = [flag, ...rest];
    const at = firstPositional(argv);
    if (at < 0) return helpCommand([]);
    const name = argv[at]!;
    const entry = USER_COMMANDS[name];
    if (entry === undefined) {
      processIO.err(
        `error: unknown command '${name}'` +
          (name in SERVER_COMMANDS
            ? ` here: give the flags after 'whirl ${name}'`
            : didYouMean(name, Object.keys(USER_COMMANDS))) +
          `\nRun 'whirl --help' for the list of commands.\n`,
      );
      return ExitCode.Usage;
    }
    return (await entry.load())([...argv.slice(0, at), ...argv.slice(at + 1)]);
  };
}
