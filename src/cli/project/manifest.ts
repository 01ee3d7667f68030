/**
 * Reading a wskdeploy manifest (and its optional deployment file) into a ProjectSpec. The layout follows
 * wskdeploy's specification:
 *
 *   project:                          (optional; `packages:` may also sit at the top level)
 *     name: demo                      the project name: needed by sync, undeploy by name and export
 *     packages:
 *       demo:                         `default` stands for "no package"
 *         inputs: {...}               package parameters (see params.ts for the grammar)
 *         annotations: {...}
 *         actions:
 *           hello:
 *             function: src/hello.js  a file (kind from its extension), a .zip, or a folder (zipped)
 *             runtime: nodejs:20      (or nodejs@20, or kind:)
 *             main, inputs, annotations, limits (timeout, memorySize, logSize, concurrentActivations),
 *             web / web-export: true|false|yes|no|raw, raw-http, final, docker, native, code
 *         sequences:  { name: { actions: "a, b", web, annotations } }
 *         triggers:   { name: { feed, inputs, annotations } }
 *         rules:      { name: { trigger, action } }
 *         apis:       { apiName: { basePath: { path: { action: { method, response } } } } }
 *         dependencies: { binding: { location: /whisk.system/utils, inputs } }
 *
 * The deployment file has the same shape and overrides `inputs` per package, action, trigger and
 * dependency. Only `stat` touches the disk here (to tell files from folders); code is read by build.ts.
 */
import { statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { EXTENSION_KINDS, SKELETON_IMAGE } from '../exec.js';
import { mergeKeyValues, webAnnotations } from '../keyvalues.js';
import type { ActionLimits, KeyValue } from '../types.js';
import {
  DEFAULT_PACKAGE,
  type ActionSpec,
  type CodeSource,
  type ProjectSpec,
  type RouteSpec,
} from './model.js';
import { resolveInputs } from './params.js';
import { Issues, Source, type Path } from './source.js';
import { substitute, substituteDeep, type Env } from './substitute.js';

export interface FileText {
  /** As the user named it (relative paths stay relative in messages). */
  file: string;
  text: string;
}

export interface ParseOptions {
  manifest: FileText;
  deployment?: FileText | undefined;
  env: Env;
  /** `--projectname`: names the project when the files do not (and must agree when they do). */
  projectName?: string | undefined;
}

type YamlMap = Record<string, unknown>;

const isMap = (v: unknown): v is YamlMap => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Keys read, or accepted and ignored without a word (wskdeploy keeps them as documentation). */
const KNOWN = {
  root: ['project', 'packages', 'package'],
  project: ['name', 'packages', 'namespace', 'credential', 'apiHost', 'version', 'description', 'config'],
  package: [
    'name',
    'version',
    'license',
    'description',
    'displayName',
    'namespace',
    'credential',
    'inputs',
    'annotations',
    'public',
    'publish',
    'actions',
    'sequences',
    'triggers',
    'rules',
    'apis',
    'dependencies',
  ],
  action: [
    'function',
    'code',
    'runtime',
    'kind',
    'main',
    'inputs',
    'outputs',
    'annotations',
    'limits',
    'feed',
    'web',
    'web-export',
    'raw-http',
    'final',
    'web-custom-options',
    'require-whisk-auth',
    'docker',
    'native',
    'version',
    'description',
    'displayName',
  ],
  sequence: ['actions', 'web', 'web-export', 'raw-http', 'final', 'annotations', 'description', 'version'],
  trigger: ['feed', 'inputs', 'annotations', 'source', 'description', 'version'],
  rule: ['trigger', 'action', 'annotations', 'rule', 'description', 'version'],
  dependency: ['location', 'version', 'inputs', 'annotations'],
  limits: ['timeout', 'memorySize', 'memory', 'logSize', 'logs', 'concurrentActivations', 'concurrency'],
  deploymentPackage: ['name', 'namespace', 'credential', 'inputs', 'actions', 'triggers', 'dependencies'],
} as const;

/** Limit keys that wskdeploy knows but OpenWhisk does not set per action (namespace limits). */
const IGNORED_LIMITS = new Set(['userInvocationRate', 'codeSize', 'parameterSize']);

const LIMIT_FIELDS: Readonly<Record<string, keyof ActionLimits>> = {
  timeout: 'timeout',
  memorySize: 'memory',
  memory: 'memory',
  logSize: 'logs',
  logs: 'logs',
  concurrentActivations: 'concurrency',
  concurrency: 'concurrency',
};

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'];

/** `nodejs@20` → `nodejs:20`, `nodejs` → `nodejs:default`; `language:default` means "infer". */
export function normaliseRuntime(runtime: string): string | undefined {
  const r = runtime.trim().replace('@', ':');
  if (r === '' || r === 'language:default') return undefined;
  return r.includes(':') ? r : `${r}:default`;
}

class Reader {
  readonly issues = new Issues();
  /** Actions and sequences the manifest defines, even those with errors (no second error for using them). */
  readonly defined = new Set<string>();
  private manifestDir: string;

  constructor(
    private readonly o: ParseOptions,
    private readonly src: Source,
  ) {
    this.manifestDir = dirname(resolve(o.manifest.file));
  }

  at(path: Path, src = this.src): string {
    return src.where(path);
  }

  /** A string field, `$VAR`-substituted; errors when it is not a string. */
  text(value: unknown, path: Path, src = this.src): string | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    if (typeof value !== 'string') {
      this.issues.error(this.at(path, src), `must be a string, not ${describe(value)}`);
      return undefined;
    }
    const s = substitute(value, this.o.env);
    for (const name of s.missing)
      this.issues.warn(this.at(path, src), `$${name} is not set in the environment: using ''`);
    return s.text;
  }

  map(value: unknown, path: Path, src = this.src): YamlMap | undefined {
    if (value === undefined || value === null) return undefined;
    if (!isMap(value)) {
      this.issues.error(this.at(path, src), `must be a map of names to values, not ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  bool(value: unknown, path: Path): boolean | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'boolean') return value;
    if (typeof value === 'string' && /^(true|false|yes|no)$/i.test(value)) return /^(true|yes)$/i.test(value);
    this.issues.error(this.at(path), `must be true or false, not ${describe(value)}`);
    return undefined;
  }

  unknownKeys(value: YamlMap, known: readonly string[], path: Path, src = this.src): void {
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) {
        this.issues.warn(this.at([...path, key], src), `unknown key '${key}' (ignored)`);
      }
    }
  }

  inputs(value: unknown, path: Path, src = this.src): KeyValue[] {
    const m = this.map(value, path, src);
    if (m === undefined) return [];
    return resolveInputs(m, {
      env: this.o.env,
      issues: this.issues,
      where: (key) => this.at([...path, key], src),
    });
  }

  annotations(value: unknown, path: Path): KeyValue[] {
    const m = this.map(value, path);
    if (m === undefined) return [];
    const missing: string[] = [];
    const out = Object.entries(m).map(([key, v]) => ({ key, value: substituteDeep(v, this.o.env, missing) }));
    for (const name of missing)
      this.issues.warn(this.at(path), `$${name} is not set in the environment: using ''`);
    return out;
  }

  /** The name of an entity: a YAML key, which must be a usable OpenWhisk name. */
  checkName(name: string, path: Path): boolean {
    if (name.trim() === '' || name.includes('/') || name.length > 256) {
      this.issues.error(this.at(path), `'${name}' is not a valid name (no '/', at most 256 characters)`);
      return false;
    }
    return true;
  }

  /** `function:` resolved against the manifest's folder. */
  codeSource(a: YamlMap, path: Path): CodeSource | undefined {
    const fn = this.text(a.function, [...path, 'function']);
    const inline = typeof a.code === 'string' ? a.code : undefined;
    if (a.code !== undefined && inline === undefined)
      this.issues.error(this.at([...path, 'code']), `must be the code, as a string`);
    if (fn !== undefined && inline !== undefined) {
      this.issues.error(this.at(path), `has both 'function' and 'code': give one`);
      return undefined;
    }
    if (inline !== undefined) return { from: 'inline', code: inline };
    if (fn === undefined) {
      if (a.docker !== undefined) return { from: 'image' };
      this.issues.error(this.at(path), `needs 'function': the file (or folder) with the action's code`);
      return undefined;
    }
    const full = isAbsolute(fn) ? fn : join(this.manifestDir, fn);
    let st;
    try {
      st = statSync(full);
    } catch {
      this.issues.error(
        this.at([...path, 'function']),
        `'${fn}' does not exist (paths are relative to the manifest's folder)`,
      );
      return undefined;
    }
    return st.isDirectory() ? { from: 'directory', path: full } : { from: 'file', path: full };
  }

  /** The kind: `runtime`/`kind`, `docker`/`native`, else what the code tells. */
  kindOf(
    a: YamlMap,
    code: CodeSource,
    path: Path,
  ): { kind: string | undefined; image: string | undefined } | undefined {
    const docker = this.text(a.docker, [...path, 'docker']);
    if (docker !== undefined) return { kind: 'blackbox', image: docker };
    if (this.bool(a.native, [...path, 'native']) === true) return { kind: 'blackbox', image: SKELETON_IMAGE };
    const runtimeKey = a.runtime !== undefined ? 'runtime' : 'kind';
    const runtime = this.text(a[runtimeKey], [...path, runtimeKey]);
    const kind = runtime === undefined ? undefined : normaliseRuntime(runtime);
    if (kind !== undefined) return { kind, image: undefined };
    const need = (what: string) => {
      this.issues.error(this.at(path), `${what}: add 'runtime' (for example nodejs:20 or python:3)`);
      return undefined;
    };
    switch (code.from) {
      case 'inline':
        return need(`inline 'code' needs a runtime`);
      case 'image':
        return { kind: undefined, image: undefined };
      case 'directory': {
        const has = (f: string) => statSafe(join(code.path, f));
        if (has('package.json') || has('index.js')) return { kind: 'nodejs:default', image: undefined };
        if (has('__main__.py')) return { kind: 'python:default', image: undefined };
        return need(`cannot tell the runtime of the folder '${String(a.function)}'`);
      }
      case 'file': {
        const ext = extname(code.path).toLowerCase();
        const byExt = EXTENSION_KINDS[ext];
        if (byExt !== undefined) return { kind: byExt, image: undefined };
        if (ext === '.zip') return need(`a .zip action needs a runtime`);
        return need(`cannot tell the runtime of '${String(a.function)}' from its extension`);
      }
    }
  }

  limits(value: unknown, path: Path): ActionLimits | undefined {
    const m = this.map(value, path);
    if (m === undefined) return undefined;
    const out: ActionLimits = {};
    for (const [key, raw] of Object.entries(m)) {
      const field = LIMIT_FIELDS[key];
      if (field === undefined) {
        const why = IGNORED_LIMITS.has(key) ? 'is a namespace limit, not set per action' : 'is not a limit';
        this.issues.warn(this.at([...path, key]), `'${key}' ${why} (ignored)`);
        continue;
      }
      const text = typeof raw === 'string' ? this.text(raw, [...path, key]) : raw;
      const n = typeof text === 'string' && /^\d+$/.test(text.trim()) ? Number(text) : text;
      if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0) {
        const unit = field === 'timeout' ? 'milliseconds' : field === 'concurrency' ? 'a count' : 'megabytes';
        this.issues.error(
          this.at([...path, key]),
          `must be a positive whole number (${unit}), not ${describe(raw)}`,
        );
        continue;
      }
      out[field] = n;
    }
    return out;
  }

  /** Web flags (`web`, `web-export`, `raw-http`, `final`...) as annotations over the `annotations:` map. */
  webAnnotations(a: YamlMap, annotations: KeyValue[], path: Path): KeyValue[] {
    const field = a.web !== undefined ? 'web' : a['web-export'] !== undefined ? 'web-export' : undefined;
    const fromAnnotations = annotations.find((kv) => kv.key === 'web-export')?.value;
    const web = field === undefined ? fromAnnotations : a[field];
    let out = annotations;
    if (web !== undefined && web !== null) {
      const text =
        typeof web === 'string' || typeof web === 'boolean' ? String(web).trim().toLowerCase() : '';
      if (!['true', 'false', 'yes', 'no', 'raw'].includes(text)) {
        const where = field === undefined ? [...path, 'annotations', 'web-export'] : [...path, field];
        this.issues.error(this.at(where), `must be true, false, yes, no or raw, not ${describe(web)}`);
      } else {
        out = mergeKeyValues(out, webAnnotations(text));
        // Given as an annotation, its companions written next to it stay as written.
        if (field === undefined)
          out = mergeKeyValues(
            out,
            annotations.filter((kv) => kv.key !== 'web-export'),
          );
      }
    }
    const flags: KeyValue[] = [];
    for (const key of ['raw-http', 'final', 'web-custom-options'] as const) {
      const v = this.bool(a[key], [...path, key]);
      if (v !== undefined) flags.push({ key, value: v });
    }
    if (a['require-whisk-auth'] !== undefined)
      flags.push({ key: 'require-whisk-auth', value: a['require-whisk-auth'] });
    return mergeKeyValues(out, flags);
  }
}

function statSafe(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return typeof v === 'string' ? `'${v}'` : (JSON.stringify(v) ?? typeof v);
}

/** Reads a manifest (and deployment file) into a ProjectSpec; every problem found is thrown at once. */
export function parseProject(o: ParseOptions): ProjectSpec {
  const pre = new Issues();
  const src = Source.parse(o.manifest.file, o.manifest.text, pre);
  const dep =
    o.deployment === undefined ? undefined : Source.parse(o.deployment.file, o.deployment.text, pre);
  pre.check();
  const r = new Reader(o, src!);
  const spec = readManifest(r, src!, o);
  if (dep !== undefined) applyDeployment(r, dep, spec, o);
  r.issues.check();
  spec.warnings = r.issues.warnings;
  return spec;
}

/** `project.packages` and top-level `packages` (and the old single `package:`), with where each sits. */
function packagesOf(r: Reader, root: YamlMap, src: Source): { name: string; value: unknown; path: Path }[] {
  const out: { name: string; value: unknown; path: Path }[] = [];
  const add = (m: YamlMap | undefined, base: Path) => {
    for (const [name, value] of Object.entries(m ?? {})) {
      if (out.some((p) => p.name === name)) {
        r.issues.error(r.at([...base, name], src), `package '${name}' is defined twice`);
        continue;
      }
      out.push({ name, value, path: [...base, name] });
    }
  };
  const project = r.map(root.project, ['project'], src);
  add(r.map(project?.packages, ['project', 'packages'], src), ['project', 'packages']);
  add(r.map(root.packages, ['packages'], src), ['packages']);
  const single = r.map(root.package, ['package'], src);
  if (single !== undefined) {
    const name = r.text(single.name, ['package', 'name'], src);
    if (name === undefined) r.issues.error(r.at(['package'], src), `needs 'name'`);
    else out.push({ name, value: single, path: ['package'] });
  }
  return out;
}

function readManifest(r: Reader, src: Source, o: ParseOptions): ProjectSpec {
  const spec: ProjectSpec = {
    manifestFile: o.manifest.file,
    manifestText: o.manifest.text,
    packages: [],
    bindings: [],
    actions: [],
    sequences: [],
    triggers: [],
    rules: [],
    routes: [],
    warnings: [],
  };
  const root = src.root;
  if (!isMap(root)) {
    r.issues.error(src.file, `must be a YAML map with 'project:' or 'packages:' at the top`);
    return spec;
  }
  r.unknownKeys(root, KNOWN.root, []);
  const project = r.map(root.project, ['project']);
  if (project !== undefined) r.unknownKeys(project, KNOWN.project, ['project']);
  const name = r.text(project?.name, ['project', 'name']);
  if (name !== undefined && name !== '') spec.name = name;
  if (o.projectName !== undefined) {
    if (spec.name !== undefined && spec.name !== o.projectName) {
      r.issues.error(
        r.at(['project', 'name']),
        `the project is '${spec.name}', not '${o.projectName}' as --projectname says`,
      );
    }
    spec.name = o.projectName;
  }
  const packages = packagesOf(r, root, src);
  if (packages.length === 0 && r.issues.errors.length === 0) {
    r.issues.error(src.file, `has no packages: put them under 'project: packages:' (or 'packages:')`);
  }
  for (const p of packages) readPackage(r, p.name, p.value, p.path, spec);
  checkReferences(r, spec);
  return spec;
}

function readPackage(r: Reader, name: string, value: unknown, path: Path, spec: ProjectSpec): void {
  const m = r.map(value, path) ?? {};
  r.unknownKeys(m, KNOWN.package, path);
  if (!r.checkName(name, path)) return;
  const isDefault = name === DEFAULT_PACKAGE;
  const qualify = (entity: string) => (isDefault ? entity : `${name}/${entity}`);
  const parameters = r.inputs(m.inputs, [...path, 'inputs']);
  const annotations = r.annotations(m.annotations, [...path, 'annotations']);
  const publish = r.bool(m.public ?? m.publish, [...path, m.public !== undefined ? 'public' : 'publish']);
  if (isDefault) {
    if (parameters.length > 0 || annotations.length > 0 || publish === true) {
      r.issues.warn(
        r.at(path),
        `the default package is no package: its inputs, annotations and public are ignored`,
      );
    }
  } else {
    spec.packages.push({ name, where: r.at(path), parameters, annotations, publish: publish === true });
  }

  for (const [actionName, a] of Object.entries(r.map(m.actions, [...path, 'actions']) ?? {})) {
    const ap = [...path, 'actions', actionName];
    if (!r.checkName(actionName, ap)) continue;
    r.defined.add(qualify(actionName));
    const action = readAction(r, qualify(actionName), a, ap);
    if (action !== undefined) spec.actions.push(action);
  }

  for (const [seqName, s] of Object.entries(r.map(m.sequences, [...path, 'sequences']) ?? {})) {
    const sp = [...path, 'sequences', seqName];
    if (!r.checkName(seqName, sp)) continue;
    r.defined.add(qualify(seqName));
    const sm = r.map(s, sp) ?? {};
    r.unknownKeys(sm, KNOWN.sequence, sp);
    const list = Array.isArray(sm.actions)
      ? sm.actions.map(String)
      : r.text(sm.actions, [...sp, 'actions'])?.split(',');
    const components = (list ?? []).map((c) => c.trim()).filter((c) => c !== '');
    if (components.length === 0) {
      r.issues.error(r.at(sp), `needs 'actions': the actions it runs, in order (e.g. "first, second")`);
      continue;
    }
    const anns = r.webAnnotations(sm, r.annotations(sm.annotations, [...sp, 'annotations']), sp);
    spec.sequences.push({
      name: qualify(seqName),
      where: r.at(sp),
      components: components.map((c) => (c.includes('/') ? c : qualify(c))),
      annotations: anns,
    });
  }

  for (const [triggerName, t] of Object.entries(r.map(m.triggers, [...path, 'triggers']) ?? {})) {
    const tp = [...path, 'triggers', triggerName];
    if (!r.checkName(triggerName, tp)) continue;
    const tm = r.map(t, tp) ?? {};
    r.unknownKeys(tm, KNOWN.trigger, tp);
    if (spec.triggers.some((x) => x.name === triggerName)) {
      r.issues.error(
        r.at(tp),
        `trigger '${triggerName}' is defined twice (triggers belong to the namespace)`,
      );
      continue;
    }
    const feed = r.text(tm.feed, [...tp, 'feed']);
    spec.triggers.push({
      name: triggerName,
      where: r.at(tp),
      ...(feed === undefined || feed === '' ? {} : { feed }),
      parameters: r.inputs(tm.inputs, [...tp, 'inputs']),
      annotations: r.annotations(tm.annotations, [...tp, 'annotations']),
    });
  }

  for (const [ruleName, x] of Object.entries(r.map(m.rules, [...path, 'rules']) ?? {})) {
    const rp = [...path, 'rules', ruleName];
    if (!r.checkName(ruleName, rp)) continue;
    const rm = r.map(x, rp) ?? {};
    r.unknownKeys(rm, KNOWN.rule, rp);
    const trigger = r.text(rm.trigger, [...rp, 'trigger']);
    const action = r.text(rm.action, [...rp, 'action']);
    if (trigger === undefined || action === undefined) {
      r.issues.error(r.at(rp), `needs both 'trigger' and 'action'`);
      continue;
    }
    if (spec.rules.some((y) => y.name === ruleName)) {
      r.issues.error(r.at(rp), `rule '${ruleName}' is defined twice (rules belong to the namespace)`);
      continue;
    }
    spec.rules.push({
      name: ruleName,
      where: r.at(rp),
      trigger,
      action: action.includes('/') ? action : qualify(action),
      annotations: r.annotations(rm.annotations, [...rp, 'annotations']),
    });
  }

  readApis(r, m.apis, [...path, 'apis'], qualify, spec.routes);

  for (const [depName, d] of Object.entries(r.map(m.dependencies, [...path, 'dependencies']) ?? {})) {
    const dp = [...path, 'dependencies', depName];
    if (!r.checkName(depName, dp)) continue;
    const dm = r.map(d, dp) ?? {};
    r.unknownKeys(dm, KNOWN.dependency, dp);
    const location = r.text(dm.location, [...dp, 'location']) ?? '';
    const parts = /^\/([^/]+)\/([^/]+)$/.exec(location.trim());
    if (parts === null) {
      const why = /github|:\/\//i.test(location)
        ? `dependencies on repositories are not supported: deploy that project first, then bind to its package`
        : `'location' must name a package as /NAMESPACE/PACKAGE (e.g. /whisk.system/utils)`;
      r.issues.error(r.at([...dp, 'location']), why);
      continue;
    }
    spec.bindings.push({
      name: depName,
      where: r.at(dp),
      target: { namespace: parts[1]!, name: parts[2]! },
      parameters: r.inputs(dm.inputs, [...dp, 'inputs']),
    });
  }
}

function readAction(r: Reader, name: string, value: unknown, path: Path): ActionSpec | undefined {
  const a = r.map(value, path);
  if (a === undefined) {
    r.issues.error(r.at(path), `must be a map with at least 'function'`);
    return undefined;
  }
  r.unknownKeys(a, KNOWN.action, path);
  // Every field is read even when an earlier one failed, so that one run reports every problem.
  const code = r.codeSource(a, path);
  const kind = code === undefined ? undefined : r.kindOf(a, code, path);
  let annotations = r.webAnnotations(a, r.annotations(a.annotations, [...path, 'annotations']), path);
  if (r.bool(a.feed, [...path, 'feed']) === true)
    annotations = mergeKeyValues(annotations, [{ key: 'feed', value: true }]);
  const main = r.text(a.main, [...path, 'main']);
  const limits = r.limits(a.limits, [...path, 'limits']);
  const parameters = r.inputs(a.inputs, [...path, 'inputs']);
  if (code === undefined || kind === undefined) return undefined;
  return {
    name,
    where: r.at(path),
    code,
    ...(kind.kind === undefined ? {} : { kind: kind.kind }),
    ...(kind.image === undefined ? {} : { image: kind.image }),
    ...(main === undefined ? {} : { main }),
    parameters,
    annotations,
    ...(limits === undefined ? {} : { limits }),
  };
}

/** `apis: {apiName: {basePath: {path: {action: {method, response}}}}}`. */
function readApis(
  r: Reader,
  value: unknown,
  path: Path,
  qualify: (name: string) => string,
  out: RouteSpec[],
): void {
  const slash = (s: string) => (s.startsWith('/') ? s : `/${s}`);
  for (const [apiName, api] of Object.entries(r.map(value, path) ?? {})) {
    for (const [base, routes] of Object.entries(r.map(api, [...path, apiName]) ?? {})) {
      for (const [rel, actions] of Object.entries(r.map(routes, [...path, apiName, base]) ?? {})) {
        const rp = [...path, apiName, base, rel];
        for (const [actionName, op] of Object.entries(r.map(actions, rp) ?? {})) {
          const op_ = typeof op === 'string' ? { method: op } : r.map(op, [...rp, actionName]);
          const method = r.text(op_?.method, [...rp, actionName, 'method'])?.toUpperCase();
          if (method === undefined || !METHODS.includes(method)) {
            r.issues.error(
              r.at([...rp, actionName, 'method']),
              `needs 'method': one of ${METHODS.join(', ')}${method === undefined ? '' : `, not '${method}'`}`,
            );
            continue;
          }
          out.push({
            apiName,
            where: r.at([...rp, actionName]),
            basePath: slash(base),
            path: slash(rel),
            method,
            action: qualify(actionName),
            responseType: (r.text(op_?.response, [...rp, actionName, 'response']) ?? 'json').toLowerCase(),
          });
        }
      }
    }
  }
}

/** Names a sequence, rule or API uses that the manifest does not define (within its own packages). */
function checkReferences(r: Reader, spec: ProjectSpec): void {
  const runnable = r.defined;
  const packages = new Set(spec.packages.map((p) => p.name));
  /** A relative name in one of this manifest's packages must be defined by it. */
  const missing = (name: string) => {
    if (name.startsWith('/')) return false;
    const pkg = name.includes('/') ? name.split('/')[0]! : DEFAULT_PACKAGE;
    const ours = pkg === DEFAULT_PACKAGE || packages.has(pkg);
    return ours && !runnable.has(name);
  };
  for (const s of spec.sequences) {
    for (const c of s.components) {
      if (missing(c)) r.issues.error(s.where, `the action '${c}' is not defined in this manifest`);
    }
  }
  for (const rule of spec.rules) {
    if (missing(rule.action))
      r.issues.error(rule.where, `the action '${rule.action}' is not defined in this manifest`);
    if (!spec.triggers.some((t) => t.name === rule.trigger)) {
      r.issues.warn(
        rule.where,
        `the trigger '${rule.trigger}' is not in this manifest: it must already exist`,
      );
    }
  }
  for (const route of spec.routes) {
    if (!runnable.has(route.action)) {
      r.issues.error(route.where, `the action '${route.action}' is not defined in this package`);
    }
  }
}

/** The deployment file's `inputs` over the manifest's, per package, action, trigger and dependency. */
function applyDeployment(r: Reader, dep: Source, spec: ProjectSpec, o: ParseOptions): void {
  const root = dep.root;
  if (!isMap(root)) {
    r.issues.error(dep.file, `must be a YAML map with 'project:' at the top`);
    return;
  }
  const project = r.map(root.project, ['project'], dep);
  const depName = r.text(project?.name, ['project', 'name'], dep);
  if (depName !== undefined && depName !== '') {
    if (spec.name !== undefined && spec.name !== depName) {
      r.issues.error(
        r.at(['project', 'name'], dep),
        `the project is '${depName}' here but '${spec.name}' in ${o.manifest.file}`,
      );
    }
    spec.name ??= depName;
  }
  const entries = [
    ...Object.entries(r.map(project?.packages, ['project', 'packages'], dep) ?? {}).map(
      ([n, v]) => [n, v, ['project', 'packages', n]] as const,
    ),
    ...Object.entries(r.map(root.packages, ['packages'], dep) ?? {}).map(
      ([n, v]) => [n, v, ['packages', n]] as const,
    ),
  ];
  const override = (list: KeyValue[], value: unknown, path: Path) =>
    mergeKeyValues(list, r.inputs(value, path, dep));
  const notInManifest = (path: Path, what: string) =>
    r.issues.error(r.at(path, dep), `${what} is not in ${o.manifest.file}`);

  for (const [pkgName, value, path] of entries) {
    const m = r.map(value, path, dep) ?? {};
    r.unknownKeys(m, KNOWN.deploymentPackage, path, dep);
    const qualify = (n: string) => (pkgName === DEFAULT_PACKAGE ? n : `${pkgName}/${n}`);
    const pkg = spec.packages.find((p) => p.name === pkgName);
    if (pkg === undefined && pkgName !== DEFAULT_PACKAGE) {
      notInManifest(path, `package '${pkgName}'`);
      continue;
    }
    if (pkg !== undefined && m.inputs !== undefined)
      pkg.parameters = override(pkg.parameters, m.inputs, [...path, 'inputs']);
    for (const [name, a] of Object.entries(r.map(m.actions, [...path, 'actions'], dep) ?? {})) {
      const ap = [...path, 'actions', name];
      const action = spec.actions.find((x) => x.name === qualify(name));
      if (action === undefined) notInManifest(ap, `action '${qualify(name)}'`);
      else action.parameters = override(action.parameters, r.map(a, ap, dep)?.inputs, [...ap, 'inputs']);
    }
    for (const [name, t] of Object.entries(r.map(m.triggers, [...path, 'triggers'], dep) ?? {})) {
      const tp = [...path, 'triggers', name];
      const trigger = spec.triggers.find((x) => x.name === name);
      if (trigger === undefined) notInManifest(tp, `trigger '${name}'`);
      else trigger.parameters = override(trigger.parameters, r.map(t, tp, dep)?.inputs, [...tp, 'inputs']);
    }
    for (const [name, d] of Object.entries(r.map(m.dependencies, [...path, 'dependencies'], dep) ?? {})) {
      const dp = [...path, 'dependencies', name];
      const binding = spec.bindings.find((x) => x.name === name);
      if (binding === undefined) notInManifest(dp, `dependency '${name}'`);
      else binding.parameters = override(binding.parameters, r.map(d, dp, dep)?.inputs, [...dp, 'inputs']);
    }
  }
}
