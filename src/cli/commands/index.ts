/**
 * The user-facing commands (the ones that talk to the REST API), for `whirl --help` and for command
 * lines that start with a global flag (`whirl -v action list`). `src/cli/main.ts` has the full table.
 */
export type Command = (argv: string[]) => Promise<number>;

export interface CommandEntry {
  summary: string;
  load: () => Promise<Command>;
}

export const USER_COMMANDS: Readonly<Record<string, CommandEntry>> = {
  action: { summary: 'work with actions', load: async () => (await import('./action.js')).actionCommand },
  activation: {
    summary: 'work with activations',
    load: async () => (await import('./activation.js')).activationCommand,
  },
  namespace: {
    summary: 'work with namespaces',
    load: async () => (await import('./namespace.js')).namespaceCommand,
  },
  list: {
    summary: 'list all entities in the namespace',
    load: async () => (await import('./list.js')).listCommand,
  },
  property: {
    summary: 'work with CLI properties (~/.wskprops)',
    load: async () => (await import('./property.js')).propertyCommand,
  },
};

/** Server-side commands, listed in the help (they live with the server code). */
export const SERVER_COMMANDS: Readonly<Record<string, string>> = {
  standalone: 'run a complete Whirl (controller and invoker) in one process',
  admin: "administer users, keys and limits (see 'whirl admin --help')",
};
