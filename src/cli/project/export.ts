/**
 * `whirl project export`: writes a manifest (and the actions' code, next to it) for the entities of a
 * managed project as they are on the server, such that deploying the manifest again gives the same
 * entities: the same code, parameters, annotations and limits.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { stringify } from 'yaml';
import type { Context } from '../command.js';
import { CommandError } from '../errors.js';
import { codeExtension } from '../exec.js';
import { ExitCode } from '../exit-codes.js';
import type { Action, CodeExec, Entity, KeyValue, Rule, SequenceExec, Trigger } from '../types.js';
import { feedOf } from '../commands/trigger.js';
import { findManaged, MANAGED } from './managed.js';
import { DEFAULT_PACKAGE } from './model.js';

type YamlMap = Record<string, unknown>;

/** Type names that the parameter grammar would read as "a value of this type". */
const TYPE_WORDS = new Set(['string', 'integer', 'int', 'float', 'number', 'boolean', 'bool', 'json']);
const SCHEMA_KEYS = new Set(['type', 'description', 'value', 'required', 'default', 'status', 'schema']);

export interface ExportResult {
  manifest: string;
  files: string[];
  warnings: string[];
}

/** A parameter value written so that reading it back gives the same value. */
function inputValue(value: unknown): unknown {
  if (typeof value === 'string' && TYPE_WORDS.has(value)) return { type: 'string', value };
  const looksLikeSchema =
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    Object.keys(value).length > 0 &&
    Object.keys(value).every((k) => SCHEMA_KEYS.has(k));
  return looksLikeSchema ? { value } : value;
}

function inputsOf(list: KeyValue[] | undefined): YamlMap | undefined {
  if (list === undefined || list.length === 0) return undefined;
  return Object.fromEntries(list.map((kv) => [kv.key, inputValue(kv.value)]));
}

/**
 * Annotations the user gave: not whisk-managed (deploying adds it again), not those the server adds itself
 * (`exec`, the kind that lists show; `provide-api-key: false`, what every new action gets).
 */
function annotationsOf(list: KeyValue[] | undefined, leave: readonly string[] = []): YamlMap | undefined {
  const serverAdded = (kv: KeyValue) =>
    kv.key === 'exec' || (kv.key === 'provide-api-key' && kv.value === false);
  const kept = (list ?? []).filter((kv) => kv.key !== MANAGED && !serverAdded(kv) && !leave.includes(kv.key));
  return kept.length === 0 ? undefined : Object.fromEntries(kept.map((kv) => [kv.key, kv.value]));
}

/** Drops undefined fields (YAML would print them as null). */
function compact(m: YamlMap): YamlMap {
  return Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined));
}

function hasDollar(list: KeyValue[] | undefined): boolean {
  return (list ?? []).some((kv) => JSON.stringify(kv.value)?.includes('$') === true);
}

export async function exportProject(
  ctx: Context,
  projectName: string,
  manifestPath: string,
  force: boolean,
): Promise<ExportResult> {
  if (existsSync(manifestPath) && !force) {
    throw new CommandError(`'${manifestPath}' exists already`, ExitCode.Usage, [
      `Export to another file with -m FILE, or add --force to overwrite it (and the code files next to it).`,
    ]);
  }
  const client = ctx.client();
  const managed = await ctx.attempt(`find the entities of project '${projectName}'`, () =>
    findManaged(client, projectName),
  );
  const total =
    managed.packages.length + managed.actions.length + managed.triggers.length + managed.rules.length;
  if (total === 0) {
    throw new CommandError(
      `No entity on the server belongs to project '${projectName}'`,
      ExitCode.RequestFailed,
      [
        `Projects are found by their whisk-managed annotation, which 'whirl project deploy' adds when the manifest names the project.`,
      ],
    );
  }
  const dir = dirname(manifestPath);
  const warnings: string[] = [];
  const files: string[] = [];
  const packages: Record<string, YamlMap> = {};
  const pkgOf = (name: string) => (packages[name] ??= {});
  const section = (pkg: string, key: string) => (pkgOf(pkg)[key] ??= {}) as YamlMap;
  const ownNamespaces = new Set([
    '_',
    ...[...managed.packages, ...managed.actions].map((e) => e.namespace.split('/')[0]!),
  ]);
  /** `/guest/pkg/a` → `pkg/a`; `/guest/a` → `/_/a` (a bare name would mean "in this package"). */
  const relativeName = (qualified: string, inDefault: boolean) => {
    const parts = qualified.replace(/^\//, '').split('/');
    if (!ownNamespaces.has(parts[0]!)) return qualified;
    if (parts.length === 3) return `${parts[1]}/${parts[2]}`;
    return inDefault ? parts[1]! : `/_/${parts[1]}`;
  };
  const warnDollar = (what: string, e: { parameters?: KeyValue[]; annotations?: KeyValue[] }) => {
    if (hasDollar(e.parameters) || hasDollar(e.annotations))
      warnings.push(
        `${what} has a value with '$': deploying the manifest will read it as an environment variable`,
      );
  };

  /** Package parameters, which a GET of a packaged action shows merged into the action's. */
  const packageParameters = new Map<string, KeyValue[]>();
  for (const p of managed.packages) {
    const full = await ctx.attempt(`get package '${p.name}'`, () => client.packages.get(p.name));
    warnDollar(`package ${p.name}`, full);
    const b = full.binding;
    if (b !== undefined && b !== false && 'name' in b) {
      section(DEFAULT_PACKAGE, 'dependencies')[p.name] = compact({
        location: `/${b.namespace}/${b.name}`,
        inputs: inputsOf(full.parameters),
      });
      continue;
    }
    packageParameters.set(p.name, full.parameters ?? []);
    Object.assign(
      pkgOf(p.name),
      compact({
        inputs: inputsOf(full.parameters),
        annotations: annotationsOf(full.annotations),
        ...(full.publish === true ? { public: true } : {}),
      }),
    );
  }

  for (const a of managed.actions) {
    const action: Action = await ctx.attempt(`get action '${a.name}'`, () => client.actions.get(a.name));
    warnDollar(`action ${a.name}`, action);
    const [pkg, name] = a.name.includes('/')
      ? (a.name.split('/') as [string, string])
      : [DEFAULT_PACKAGE, a.name];
    const annotations = annotationsOf(action.annotations);
    if (action.exec.kind === 'sequence') {
      const exec = action.exec as SequenceExec;
      section(pkg, 'sequences')[name] = compact({
        actions: exec.components.map((c) => relativeName(c, pkg === DEFAULT_PACKAGE)).join(', '),
        annotations,
      });
      continue;
    }
    const exec = action.exec as CodeExec;
    const inherited = packageParameters.get(pkg) ?? [];
    const own = (action.parameters ?? []).filter(
      (kv) =>
        !inherited.some((i) => i.key === kv.key && JSON.stringify(i.value) === JSON.stringify(kv.value)),
    );
    const entry: YamlMap = {};
    if (exec.code !== undefined) {
      const content =
        exec.binary === true ? Buffer.from(exec.code, 'base64') : Buffer.from(exec.code, 'utf8');
      const file = join(dir, pkg, `${name}${codeExtension(exec.kind, content, exec.binary === true)}`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
      files.push(file);
      entry.function = relative(dir, file);
    }
    if (exec.kind === 'blackbox') entry.docker = exec.image;
    else entry.runtime = exec.kind;
    if (exec.main !== undefined && exec.main !== '') entry.main = exec.main;
    const l = action.limits;
    section(pkg, 'actions')[name] = compact({
      ...entry,
      inputs: inputsOf(own),
      annotations,
      limits:
        l === undefined
          ? undefined
          : compact({
              timeout: l.timeout,
              memorySize: l.memory,
              logSize: l.logs,
              concurrentActivations: l.concurrency,
            }),
    });
  }

  for (const t of managed.triggers) {
    const trigger: Trigger = await ctx.attempt(`get trigger '${t.name}'`, () => client.triggers.get(t.name));
    warnDollar(`trigger ${t.name}`, trigger);
    const feed = feedOf(trigger);
    if (feed !== undefined) {
      warnings.push(
        `trigger ${t.name}: its feed ${feed} keeps its configuration; add the feed's inputs to the manifest`,
      );
    }
    section(DEFAULT_PACKAGE, 'triggers')[t.name] = compact({
      feed,
      inputs: inputsOf(trigger.parameters),
      annotations: annotationsOf(trigger.annotations, ['feed']),
    });
  }

  for (const r of managed.rules) {
    const rule: Rule = await ctx.attempt(`get rule '${r.name}'`, () => client.rules.get(r.name));
    section(DEFAULT_PACKAGE, 'rules')[r.name] = compact({
      trigger: rule.trigger.name,
      action: relativeName(`/${rule.action.path}/${rule.action.name}`, true),
      annotations: annotationsOf(rule.annotations),
    });
  }

  // Routes to the project's actions, under the package of their action.
  const actionNames = new Set(managed.actions.map((a: Entity) => a.name));
  const apis = await ctx.attempt('list APIs', () => client.apis.listAll());
  for (const api of apis) {
    for (const route of api.routes) {
      const rel = route.action.split('/').slice(2).join('/');
      if (!actionNames.has(rel)) continue;
      const [pkg, name] = rel.includes('/') ? (rel.split('/') as [string, string]) : [DEFAULT_PACKAGE, rel];
      const byApi = (section(pkg, 'apis')[api.name] ??= {}) as YamlMap;
      const base = api.basePath === '/' ? '/' : api.basePath.slice(1);
      const byBase = (byApi[base] ??= {}) as YamlMap;
      const path = route.path === '/' ? '/' : route.path.slice(1);
      const byPath = (byBase[path] ??= {}) as YamlMap;
      byPath[name] = { method: route.method, response: route.responseType };
    }
  }

  const manifest = { project: { name: projectName, packages } };
  mkdirSync(dir, { recursive: true });
  writeFileSync(manifestPath, stringify(manifest, { lineWidth: 0 }));
  return { manifest: manifestPath, files, warnings };
}
