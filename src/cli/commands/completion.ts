/**
 * `whirl completion bash|zsh`: a shell completion script built from the CLI's own command table (the
 * nouns, their verbs and aliases, each verb's flags, the global flags), so it cannot drift from what the
 * CLI accepts. Both scripts share one function written in plain POSIX shell, which works in bash and zsh
 * alike and prints the candidates for the word being completed; each shell adds only its own glue.
 */
import { UsageError, type FlagDef } from '../args.js';
import { GLOBAL_FLAGS, runVerb, type Noun, type Verb } from '../command.js';
import { cliVersion } from '../version.js';
import { SERVER_COMMANDS, USER_COMMANDS } from './index.js';

export const SHELLS = ['bash', 'zsh'] as const;
export type Shell = (typeof SHELLS)[number];

export interface CompletionTable {
  /** The first words: every command. */
  commands: string[];
  /** Verbs (with aliases) of each noun. */
  verbs: Record<string, string[]>;
  /** Flags of each `noun verb` (for a noun's verb) or `command` (for a command without verbs). */
  flags: Record<string, string[]>;
  /** Commands that take no verb (`list`): their flags follow any positional. */
  verbless: string[];
  globalFlags: string[];
  /** Global flags that take a value, skipped when finding the command and verb. */
  valueFlags: string[];
}

function spellings(defs: readonly FlagDef[]): string[] {
  return defs.flatMap((d) => [`--${d.long}`, ...(d.short === undefined ? [] : [`-${d.short}`])]);
}

const isNoun = (spec: Noun | Verb): spec is Noun => 'verbs' in spec;

/** The table, read from the command registry (src/cli/commands/index.ts). */
export async function completionTable(): Promise<CompletionTable> {
  const table: CompletionTable = {
    commands: [...Object.keys(USER_COMMANDS), ...Object.keys(SERVER_COMMANDS), 'help'],
    verbs: { completion: [...SHELLS] },
    flags: {},
    verbless: [],
    globalFlags: spellings(GLOBAL_FLAGS),
    valueFlags: spellings(GLOBAL_FLAGS.filter((f) => f.kind !== 'boolean')),
  };
  for (const [name, entry] of Object.entries(USER_COMMANDS)) {
    if (entry.spec === undefined) continue;
    const spec = await entry.spec();
    if (!isNoun(spec)) {
      table.verbless.push(name);
      table.flags[name] = spellings(spec.flags ?? []);
      continue;
    }
    table.verbs[name] = spec.verbs.flatMap((v) => [v.name, ...(v.aliases ?? [])]);
    for (const v of spec.verbs) {
      const flags = spellings(v.flags ?? []);
      for (const alias of [v.name, ...(v.aliases ?? [])]) table.flags[`${name} ${alias}`] = flags;
    }
  }
  return table;
}

/** Every word goes into the script unquoted-safe: reject anything a shell could read as syntax. */
function words(list: readonly string[]): string {
  for (const w of list) {
    if (!/^[A-Za-z0-9_.:-]+$/.test(w)) throw new Error(`cannot put '${w}' in a completion script`);
  }
  return [...new Set(list)].join(' ');
}

/** The shared POSIX-shell function: `__whirl_candidates CUR WORD...` prints the candidates for CUR. */
function candidatesFunction(t: CompletionTable): string {
  const flagCases = Object.entries(t.flags)
    .filter(([, f]) => f.length > 0)
    .map(([key, f]) => {
      // A verbless command's flags may follow a positional (`list /ns -n`), so its pattern is open-ended.
      const pattern = t.verbless.includes(key) ? `'${key} '*` : `'${key}'`;
      return `        ${pattern}) echo '${words(f)}' ;;`;
    });
  const verbCases = Object.entries(t.verbs).map(([noun, v]) => `          ${noun}) echo '${words(v)}' ;;`);
  return [
    '__whirl_candidates() {',
    '  local cur="$1" cmd="" verb="" skip="" w',
    '  shift',
    '  for w in "$@"; do',
    '    if [ -n "$skip" ]; then skip=""; continue; fi',
    '    case "$w" in',
    `      ${t.valueFlags.join('|')}) skip=1 ;;`,
    '      -*) ;;',
    '      *) if [ -z "$cmd" ]; then cmd="$w"; elif [ -z "$verb" ]; then verb="$w"; fi ;;',
    '    esac',
    '  done',
    '  case "$cur" in',
    '    -*)',
    '      case "$cmd $verb" in',
    ...flagCases,
    '      esac',
    `      echo '${words(t.globalFlags)}'`,
    '      ;;',
    '    *)',
    '      if [ -z "$cmd" ]; then',
    `        echo '${words(t.commands)}'`,
    '      elif [ -z "$verb" ]; then',
    '        case "$cmd" in',
    ...verbCases,
    '        esac',
    '      fi',
    '      ;;',
    '  esac',
    '}',
  ].join('\n');
}

function header(shell: Shell, install: string): string {
  return [
    `# whirl ${cliVersion()} completion for ${shell}, generated from the CLI's command table.`,
    `# ${install}`,
  ].join('\n');
}

export function bashScript(t: CompletionTable): string {
  return [
    header(
      'bash',
      `Load it with: source <(whirl completion bash)   (or save it in ~/.bash_completion.d/whirl)`,
    ),
    candidatesFunction(t),
    '_whirl() {',
    '  local cur="${COMP_WORDS[COMP_CWORD]}"',
    '  COMPREPLY=($(compgen -W "$(__whirl_candidates "$cur" "${COMP_WORDS[@]:1:COMP_CWORD-1}")" -- "$cur"))',
    '}',
    'complete -F _whirl whirl',
    '',
  ].join('\n');
}

export function zshScript(t: CompletionTable): string {
  return [
    '#compdef whirl',
    header('zsh', `Load it after compinit with: source <(whirl completion zsh)`),
    candidatesFunction(t),
    '_whirl() {',
    '  local -a candidates',
    '  candidates=(${=$(__whirl_candidates "${words[CURRENT]}" "${(@)words[2,CURRENT-1]}")})',
    '  compadd -a candidates',
    '}',
    'compdef _whirl whirl',
    '',
  ].join('\n');
}

export const completionVerb: Verb = {
  name: '',
  args: 'bash|zsh',
  summary: 'Print a shell completion script for whirl (commands, subcommands and flags).',
  details: `Examples:
  source <(whirl completion bash)          (add the line to ~/.bashrc to keep it)
  whirl completion bash > ~/.bash_completion.d/whirl
  source <(whirl completion zsh)           (in ~/.zshrc, after compinit)`,
  min: 1,
  max: 1,
  run: async (ctx) => {
    const shell = ctx.args.positionals[0]!;
    if (!(SHELLS as readonly string[]).includes(shell))
      throw new UsageError(`completion scripts exist for ${SHELLS.join(' and ')}, not '${shell}'`);
    const table = await completionTable();
    ctx.io.out(shell === 'bash' ? bashScript(table) : zshScript(table));
  },
};

export const completionCommand = (argv: string[]): Promise<number> =>
  runVerb('completion', completionVerb, argv);
