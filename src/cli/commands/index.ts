/**
 * The user-facing commands (the ones that talk to the REST API), for `whirl --help` and for command
 * lines that start with a global flag (`whirl -v action list`). `src/cli/main.ts` has the full table.
 */
import type { Noun, Verb } from '../command.js';

export type Command = (argv: string[]) => Promise<number>;

export interface CommandEntry {
  summary: string;
  load: () => Promise<Command>;
  /** Its verbs and flags (a noun), or its flags (a command without verbs), for shell completion. */
  spec?: () => Promise<Noun | Verb>;
}

export const USER_COMMANDS: Readonly<Record<string, CommandEntry>> = {
  action: {
    summary: 'work with actions',
    load: async () => (await import('./action.js')).actionCommand,
    spec: async () => (await import('./action.js')).actionNoun,
  },
  package: {
    summary: 'work with packages and bindings',
    load: async () => (await import('./package.js')).packageCommand,
    spec: async () => (await import('./package.js')).packageNoun,
  },
  trigger: {
    summary: 'work with triggers (and their feeds)',
    load: async () => (await import('./trigger.js')).triggerCommand,
    spec: async () => (await import('./trigger.js')).triggerNoun,
  },
  rule: {
    summary: 'work with rules',
    load: async () => (await import('./rule.js')).ruleCommand,
    spec: async () => (await import('./rule.js')).ruleNoun,
  },
  api: {
    summary: 'work with APIs: REST routes that run actions',
    load: async () => (await import('./api.js')).apiCommand,
    spec: async () => (await import('./api.js')).apiNoun,
  },
  project: {
    summary: 'deploy projects from wskdeploy manifests (deploy, sync, undeploy, export)',
    load: async () => (await import('./project.js')).projectCommand,
  },
  activation: {
    summary: 'work with activations',
    load: async () => (await import('./activation.js')).activationCommand,
    spec: async () => (await import('./activation.js')).activationNoun,
  },
  namespace: {
    summary: 'work with namespaces',
    load: async () => (await import('./namespace.js')).namespaceCommand,
    spec: async () => (await import('./namespace.js')).namespaceNoun,
  },
  list: {
    summary: 'list all entities in the namespace',
    load: async () => (await import('./list.js')).listCommand,
    spec: async () => (await import('./list.js')).listVerb,
  },
  property: {
    summary: 'work with CLI properties (~/.wskprops)',
    load: async () => (await import('./property.js')).propertyCommand,
    spec: async () => (await import('./property.js')).propertyNoun,
  },
  completion: {
    summary: "print a shell completion script: 'source <(whirl completion bash)' (or zsh)",
    load: async () => (await import('./completion.js')).completionCommand,
  },
};

/** Server-side commands, listed in the help (they live with the server code). */
export const SERVER_COMMANDS: Readonly<Record<string, string>> = {
  standalone: 'run a complete Whirl (controller and invoker) in one process',
  controller: "run one controller of a cluster (see 'whirl controller --help', docs/cluster.md)",
  invoker: "run one invoker of a cluster (see 'whirl invoker --help')",
  admin: "administer users, keys and limits (see 'whirl admin --help')",
  runtimes: "build the docker sandbox's runtime images (see 'whirl runtimes --help')",
};
