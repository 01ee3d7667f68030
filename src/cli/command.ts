/**
 * The noun-verb command framework: global flags (accepted anywhere), `--help` at every level, one
 * context per run (settings, a lazily built client, printing helpers), and one place that turns
 * failures into messages and exit codes.
 */
import { didYouMean, flagHelp, parseArgs, UsageError, type FlagDef, type ParsedArgs } from './args.js';
import { WhirlApiError, WhirlClient, WhirlConnectionError } from './client.js';
import { AttemptError, ConfigError, describeFailure } from './errors.js';
import { ExitCode } from './exit-codes.js';
import { formatExchange, json, processIO, redact, secretsOf, type IO } from './output.js';
import { describeSource, resolveConfig, type Config, type Env } from './props.js';
import { cliVersion } from './version.js';

export const GLOBAL_FLAGS: readonly FlagDef[] = [
  { long: 'auth', short: 'u', kind: 'string', arg: 'KEY', help: 'authorization key (UUID:KEY)' },
  { long: 'apihost', kind: 'string', arg: 'HOST', help: 'API host, e.g. http://127.0.0.1:3233' },
  { long: 'apiversion', kind: 'string', arg: 'VERSION', help: 'API version (v1)' },
  { long: 'insecure', short: 'i', kind: 'boolean', help: 'accept self-signed TLS certificates' },
  { long: 'verbose', short: 'v', kind: 'boolean', help: 'print each request and response (key masked)' },
  { long: 'debug', short: 'd', kind: 'boolean', help: 'print debugging output' },
  { long: 'help', short: 'h', kind: 'boolean', help: 'help for this command' },
];

export interface Verb {
  name: string;
  aliases?: string[];
  /** Positional arguments as shown in help, e.g. `NAME [ARTIFACT]`. */
  args: string;
  summary: string;
  /** Extra help text (examples, notes). */
  details?: string;
  flags?: FlagDef[];
  /** Number of positionals accepted. */
  min?: number;
  max?: number;
  run(ctx: Context): Promise<number | void>;
}

export interface Noun {
  name: string;
  summary: string;
  verbs: Verb[];
}

export class Context {
  private cachedConfig: Config | undefined;
  private cachedClient: WhirlClient | undefined;

  constructor(
    readonly noun: string,
    readonly verb: string,
    readonly args: ParsedArgs,
    readonly io: IO = processIO,
    readonly env: Env = process.env,
  ) {}

  get config(): Config {
    this.cachedConfig ??= resolveConfig(
      {
        auth: this.args.string('auth'),
        apihost: this.args.string('apihost'),
        apiversion: this.args.string('apiversion'),
        insecure: this.args.bool('insecure'),
      },
      this.env,
    );
    return this.cachedConfig;
  }

  get verbose(): boolean {
    return this.args.bool('verbose');
  }

  get debugging(): boolean {
    return this.args.bool('debug');
  }

  /** The configured namespace (`_` unless NAMESPACE is set). */
  get namespace(): string {
    return this.config.namespace.value ?? '_';
  }

  /** The client for the configured server; ConfigError when APIHOST (or AUTH, if needed) is missing. */
  client(o: { needAuth?: boolean } = {}): WhirlClient {
    if (this.cachedClient !== undefined) return this.cachedClient;
    const c = this.config;
    const apihost = c.apihost.value;
    if (apihost === undefined || apihost === '') {
      throw new ConfigError('No API host is set.', [
        `Set it with 'whirl property set --apihost http://127.0.0.1:3233' (or WHISK_APIHOST, or --apihost);`,
        `'whirl standalone' starts a local server and writes ~/.wskprops for you.`,
      ]);
    }
    try {
      new URL(apihost);
    } catch {
      throw new ConfigError(
        `The API host '${apihost}' (from ${describeSource('apihost', c.apihost, c.file)}) is not a valid URL.`,
        [`Fix it with 'whirl property set --apihost URL'.`],
      );
    }
    if (o.needAuth !== false && (c.auth.value === undefined || c.auth.value === '')) {
      throw new ConfigError('No authorization key is set.', [
        `Set it with 'whirl property set --auth UUID:KEY' (or WHISK_AUTH, or -u/--auth);`,
        `'whirl standalone' prints the guest key when it starts for the first time.`,
      ]);
    }
    const secrets = secretsOf(c.auth.value);
    this.debug(`properties file: ${c.file}`);
    this.debug(`API host: ${apihost} (from ${describeSource('apihost', c.apihost, c.file)})`);
    this.debug(
      `auth: ${c.auth.value === undefined ? 'none' : `${c.auth.value.split(':')[0]}:[masked]`} (from ${describeSource('auth', c.auth, c.file)})`,
    );
    this.debug(`API version: ${c.apiversion.value ?? 'v1'}, namespace: ${this.namespace}`);
    this.cachedClient = new WhirlClient({
      apihost,
      auth: c.auth.value,
      apiversion: c.apiversion.value,
      namespace: this.namespace,
      insecure: c.insecure,
      userAgent: `whirl-cli/${cliVersion()}`,
      onExchange: this.verbose || this.debugging ? (e) => this.io.err(formatExchange(e, secrets)) : undefined,
    });
    return this.cachedClient;
  }

  /** Runs one API call; failures say what was being attempted ("create action 'hello'"). */
  async attempt<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof WhirlApiError || err instanceof WhirlConnectionError)
        throw new AttemptError(what, err);
      throw err;
    }
  }

  line(text = ''): void {
    this.io.out(`${text}\n`);
  }

  ok(message: string): void {
    this.line(`ok: ${message}`);
  }

  json(value: unknown): void {
    this.line(json(value));
  }

  warn(message: string): void {
    this.io.err(`warning: ${message}\n`);
  }

  debug(message: string): void {
    if (this.debugging) this.io.err(`[debug] ${redact(message, secretsOf(this.cachedConfig?.auth.value))}\n`);
  }

  close(): void {
    this.cachedClient?.close();
  }
}

function verbNames(v: Verb): string[] {
  return [v.name, ...(v.aliases ?? [])];
}

export function nounHelp(noun: Noun): string {
  const width = Math.max(...noun.verbs.map((v) => v.name.length)) + 2;
  return [
    `${noun.summary}`,
    '',
    `Usage: whirl ${noun.name} <command> [flags]`,
    '',
    'Commands:',
    ...noun.verbs.map((v) => `  ${v.name.padEnd(width)}${v.summary}`),
    '',
    'Global flags:',
    flagHelp(GLOBAL_FLAGS),
    '',
    `Run 'whirl ${noun.name} <command> --help' for the flags of a command.`,
    '',
  ].join('\n');
}

export function verbHelp(command: string, v: Verb): string {
  const parts = [
    `${v.summary}`,
    '',
    `Usage: whirl ${command} ${v.args}${v.args === '' ? '' : ' '}[flags]`.replace(/ {2,}/g, ' '),
  ];
  if (v.aliases !== undefined && v.aliases.length > 0) parts.push(`Aliases: ${verbNames(v).join(', ')}`);
  if (v.flags !== undefined && v.flags.length > 0) parts.push('', 'Flags:', flagHelp(v.flags));
  const shadowed = new Set((v.flags ?? []).map((f) => f.long));
  parts.push('', 'Global flags:', flagHelp(GLOBAL_FLAGS.filter((g) => !shadowed.has(g.long))));
  if (v.details !== undefined) parts.push('', v.details.trimEnd());
  return `${parts.join('\n')}\n`;
}

/** Flags of `defs` that take a value, by spelling, so a scan can skip their values. */
function valueFlags(defs: readonly FlagDef[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const d of defs) {
    if (d.kind === 'boolean') continue;
    const n = d.kind === 'pair' ? 2 : 1;
    m.set(`--${d.long}`, n);
    if (d.short !== undefined) m.set(`-${d.short}`, n);
  }
  return m;
}

/** Index of the first positional in argv, skipping the given flags (and their values). */
export function firstPositional(argv: readonly string[], defs: readonly FlagDef[] = GLOBAL_FLAGS): number {
  const takes = valueFlags(defs);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return i + 1 < argv.length ? i + 1 : -1;
    if (!a.startsWith('-') || a === '-') return i;
    if (!a.includes('=')) i += takes.get(a) ?? 0;
  }
  return -1;
}

async function flush(io: IO): Promise<void> {
  if (io !== processIO) return;
  await Promise.all([
    new Promise<void>((r) => process.stdout.write('', () => r())),
    new Promise<void>((r) => process.stderr.write('', () => r())),
  ]);
}

/** Runs one verb with its argv (the verb itself removed). */
export async function runVerb(
  noun: string,
  verb: Verb,
  argv: readonly string[],
  io: IO = processIO,
  env: Env = process.env,
): Promise<number> {
  const command = verb.name === '' ? noun : `${noun} ${verb.name}`;
  let ctx: Context | undefined;
  try {
    const args = parseArgs(argv, [...(verb.flags ?? []), ...GLOBAL_FLAGS]);
    ctx = new Context(noun, verb.name, args, io, env);
    if (args.bool('help')) {
      io.out(verbHelp(command, verb));
      return ExitCode.Ok;
    }
    const n = args.positionals.length;
    if (verb.min !== undefined && n < verb.min) {
      throw new UsageError(
        `'whirl ${command}' needs ${verb.args.replace(/\[.*$/, '').trim() || 'more arguments'}`,
      );
    }
    if (verb.max !== undefined && n > verb.max) {
      throw new UsageError(
        `too many arguments for 'whirl ${command}': ${args.positionals.slice(verb.max).join(' ')}`,
      );
    }
    const code = await verb.run(ctx);
    return typeof code === 'number' ? code : ExitCode.Ok;
  } catch (err) {
    const failure = describeFailure(
      err,
      {
        noun,
        verb: verb.name,
        apihost: ctx === undefined ? undefined : safe(() => ctx!.config.apihost.value),
        authSource:
          ctx === undefined
            ? undefined
            : safe(() => describeSource('auth', ctx!.config.auth, ctx!.config.file)),
      },
      ctx?.debugging ?? false,
    );
    const secrets = ctx === undefined ? [] : (safe(() => secretsOf(ctx!.config.auth.value)) ?? []);
    io.err(`${redact(failure.lines.join('\n'), secrets)}\n`);
    return failure.exitCode;
  } finally {
    ctx?.close();
    await flush(io);
  }
}

function safe<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/** Runs `whirl <noun> <verb> ...` (argv without the noun). */
export async function runNoun(
  noun: Noun,
  argv: readonly string[],
  io: IO = processIO,
  env: Env = process.env,
): Promise<number> {
  const at = firstPositional(argv);
  if (at < 0) {
    // No verb: `whirl action` or `whirl action --help`.
    try {
      parseArgs(argv, GLOBAL_FLAGS);
    } catch (err) {
      io.err(`error: ${(err as Error).message}\nRun 'whirl ${noun.name} --help' for usage.\n`);
      await flush(io);
      return ExitCode.Usage;
    }
    io.out(nounHelp(noun));
    await flush(io);
    return ExitCode.Ok;
  }
  const name = argv[at]!;
  const verb = noun.verbs.find((v) => verbNames(v).includes(name));
  if (verb === undefined) {
    const names = noun.verbs.map((v) => v.name);
    const hint = didYouMean(name, noun.verbs.flatMap(verbNames));
    io.err(
      `error: unknown command '${name}' for 'whirl ${noun.name}'${hint} (commands: ${names.join(', ')})\n`,
    );
    io.err(`Run 'whirl ${noun.name} --help' for usage.\n`);
    await flush(io);
    return ExitCode.Usage;
  }
  return runVerb(noun.name, verb, [...argv.slice(0, at), ...argv.slice(at + 1)], io, env);
}
