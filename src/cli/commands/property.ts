/**
 * `whirl property set|get|unset`: the properties file (`~/.wskprops` or `WSK_CONFIG_FILE`), with the
 * same keys and `whisk ...` output lines as `wsk`, so scripts like `property get --auth | awk '{print $3}'`
 * keep working.
 */
import type { FlagDef } from '../args.js';
import { UsageError } from '../args.js';
import { runNoun, type Context, type Noun } from '../command.js';
import {
  DEFAULT_APIVERSION,
  DEFAULT_NAMESPACE,
  propsPath,
  readProps,
  writeProps,
  type PropertyKey,
} from '../props.js';
import { cliVersion } from '../version.js';

interface Property {
  flag: string;
  key: PropertyKey;
  label: string;
  env?: string;
  dflt?: string;
}

const PROPERTIES: readonly Property[] = [
  { flag: 'auth', key: 'AUTH', label: 'whisk auth', env: 'WHISK_AUTH' },
  { flag: 'apihost', key: 'APIHOST', label: 'whisk API host', env: 'WHISK_APIHOST' },
  {
    flag: 'apiversion',
    key: 'APIVERSION',
    label: 'whisk API version',
    env: 'WHISK_APIVERSION',
    dflt: DEFAULT_APIVERSION,
  },
  { flag: 'namespace', key: 'NAMESPACE', label: 'whisk namespace', dflt: DEFAULT_NAMESPACE },
];

/** `label<tabs>value`, aligned the way wsk aligns it (two tabs for short labels). */
function labelled(label: string, value: string): string {
  return `${label}${label.length < 16 ? '\t\t' : '\t'}${value}`;
}

function warnIfOverridden(ctx: Context, p: Property): void {
  if (p.env !== undefined && (ctx.env[p.env] ?? '') !== '') {
    ctx.warn(`${p.env} is set in the environment and takes precedence over the properties file.`);
  }
}

const SET_FLAGS: FlagDef[] = [
  { long: 'auth', short: 'u', kind: 'string', arg: 'KEY', help: 'authorization key (UUID:KEY)' },
  {
    long: 'apihost',
    kind: 'string',
    arg: 'HOST',
    help: 'API host (http:// assumed for localhost, else https://)',
  },
  { long: 'apiversion', kind: 'string', arg: 'VERSION', help: 'API version' },
  { long: 'namespace', kind: 'string', arg: 'NAMESPACE', help: 'namespace used for names without one' },
];

async function setProps(ctx: Context): Promise<void> {
  const given = PROPERTIES.filter((p) => ctx.args.string(p.flag) !== undefined);
  if (given.length === 0)
    throw new UsageError('give at least one of --auth, --apihost, --apiversion, --namespace');
  const file = propsPath(ctx.env);
  const props = readProps(file);
  for (const p of given) {
    let value = ctx.args.string(p.flag)!.trim();
    if (p.flag === 'apihost') value = value.replace(/\/+$/, '');
    if (value === '')
      throw new UsageError(`--${p.flag} needs a non-empty value (use 'whirl property unset --${p.flag}')`);
    if (p.flag === 'auth' && !value.includes(':')) ctx.warn(`the key does not look like UUID:KEY`);
    props.set(p.key, value);
  }
  writeProps(file, props);
  for (const p of given) {
    if (p.flag === 'auth') ctx.ok(`whisk auth set. Run 'whirl property get --auth' to see the new value.`);
    else ctx.ok(`${p.label} set to ${props.get(p.key)}`);
    warnIfOverridden(ctx, p);
  }
}

const UNSET_FLAGS: FlagDef[] = PROPERTIES.map((p) => ({
  long: p.flag,
  kind: 'boolean',
  help: `unset ${p.label.replace('whisk ', '')}`,
}));

async function unsetProps(ctx: Context): Promise<void> {
  const given = PROPERTIES.filter((p) => ctx.args.bool(p.flag));
  if (given.length === 0)
    throw new UsageError('give at least one of --auth, --apihost, --apiversion, --namespace');
  const file = propsPath(ctx.env);
  const props = readProps(file);
  for (const p of given) props.delete(p.key);
  writeProps(file, props);
  for (const p of given) {
    ctx.ok(`${p.label} unset.${p.dflt === undefined ? '' : ` The default value ${p.dflt} will be used.`}`);
    warnIfOverridden(ctx, p);
  }
}

const GET_FLAGS: FlagDef[] = [
  { long: 'auth', kind: 'boolean', help: 'authorization key' },
  { long: 'apihost', kind: 'boolean', help: 'API host' },
  { long: 'apiversion', kind: 'boolean', help: 'API version' },
  { long: 'namespace', kind: 'boolean', help: 'namespace' },
  { long: 'cliversion', kind: 'boolean', help: 'CLI version' },
  { long: 'apibuild', kind: 'boolean', help: 'API build (asks the server)' },
  { long: 'apibuildno', kind: 'boolean', help: 'API build number (asks the server)' },
  { long: 'all', kind: 'boolean', help: 'all of the above (the default)' },
  {
    long: 'output',
    short: 'o',
    kind: 'string',
    arg: 'std|raw',
    help: 'raw: only the values, one a line, no labels (for scripts; not with --all)',
  },
];

/** `-o std|raw` (wsk's `--output`): raw prints values only, and only for properties named one by one. */
function outputFormat(ctx: Context, all: boolean): 'std' | 'raw' {
  const o = ctx.args.string('output') ?? 'std';
  if (o !== 'std' && o !== 'raw') throw new UsageError(`--output is std or raw, not '${o}'`);
  if (o === 'raw' && all)
    throw new UsageError('-o raw prints values without labels: name the properties, e.g. --apihost');
  return o;
}

async function getProps(ctx: Context): Promise<void> {
  const wanted = GET_FLAGS.map((f) => f.long).filter((f) => ctx.args.bool(f));
  const all = wanted.length === 0 || wanted.includes('all');
  const want = (f: string) => all || wanted.includes(f);
  const raw = outputFormat(ctx, all) === 'raw';
  const row = (label: string, value: string) => (raw ? value : labelled(label, value));
  const c = ctx.config;
  const value = (flag: string): string => {
    const setting =
      flag === 'auth'
        ? c.auth
        : flag === 'apihost'
          ? c.apihost
          : flag === 'apiversion'
            ? c.apiversion
            : c.namespace;
    return setting.value ?? '';
  };
  for (const p of PROPERTIES) if (want(p.flag)) ctx.line(row(p.label, value(p.flag)));
  if (want('cliversion')) ctx.line(row('whisk CLI version', cliVersion()));
  if (want('apibuild') || want('apibuildno')) {
    let build: string | undefined;
    let buildno: string | undefined;
    try {
      const info = await ctx.attempt('get the API build information', () =>
        ctx.client({ needAuth: false }).info(),
      );
      build = info.build;
      buildno = info.buildno;
    } catch (err) {
      // Asked for explicitly: fail. Part of --all: say Unknown and carry on.
      if (!all) throw err;
      ctx.warn(`cannot get the API build information from ${c.apihost.value ?? '(no API host set)'}`);
    }
    if (want('apibuild')) ctx.line(row('whisk API build', build ?? 'Unknown'));
    if (want('apibuildno')) ctx.line(row('whisk API build number', buildno ?? 'Unknown'));
  }
}

export const propertyNoun: Noun = {
  name: 'property',
  summary: 'Read and change the CLI properties (~/.wskprops, or the file named by WSK_CONFIG_FILE).',
  verbs: [
    {
      name: 'set',
      args: '',
      summary: 'set properties',
      flags: SET_FLAGS,
      max: 0,
      details: `Example: whirl property set --apihost http://127.0.0.1:3233 --auth UUID:KEY`,
      run: setProps,
    },
    { name: 'unset', args: '', summary: 'remove properties', flags: UNSET_FLAGS, max: 0, run: unsetProps },
    {
      name: 'get',
      args: '',
      summary:
        'show properties (environment variables WHISK_AUTH, WHISK_APIHOST, WHISK_APIVERSION take precedence)',
      flags: GET_FLAGS,
      max: 0,
      run: getProps,
    },
  ],
};

export const propertyCommand = (argv: string[]): Promise<number> => runNoun(propertyNoun, argv);
