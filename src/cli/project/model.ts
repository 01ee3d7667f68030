/**
 * A project as the manifest (and deployment file) describe it, after validation, `$VAR` substitution and
 * deployment overrides: plain data, no I/O. `build.ts` turns it into the REST calls that deploy it.
 * Names in here are relative to the caller's namespace (`pkg/action`, `trigger`).
 */
import type { ActionLimits, KeyValue } from '../types.js';

/** The package name wskdeploy reserves for entities outside any package. */
export const DEFAULT_PACKAGE = 'default';

/** Where an action's code comes from. */
export type CodeSource =
  | { from: 'file'; path: string }
  /** A directory, zipped at deploy time (wskdeploy's "zip folder"). */
  | { from: 'directory'; path: string }
  | { from: 'inline'; code: string }
  /** A docker image alone (`docker:` without `function:`). */
  | { from: 'image' };

export interface ActionSpec {
  /** `hello` or `pkg/hello`. */
  name: string;
  /** `file:line: packages.demo.actions.hello`, for messages about it later. */
  where: string;
  code: CodeSource;
  /** As written (`nodejs@20` normalised to `nodejs:20`); undefined when inferred from the file. */
  kind?: string;
  image?: string;
  main?: string;
  parameters: KeyValue[];
  annotations: KeyValue[];
  limits?: ActionLimits;
}

export interface SequenceSpec {
  name: string;
  where: string;
  /** Relative (`pkg/a`) or qualified (`/ns/pkg/a`) action names, in order. */
  components: string[];
  annotations: KeyValue[];
}

export interface PackageSpec {
  name: string;
  where: string;
  parameters: KeyValue[];
  annotations: KeyValue[];
  publish: boolean;
}

/** A manifest `dependencies:` entry: a binding of a package that already exists. */
export interface BindingSpec {
  name: string;
  where: string;
  target: { namespace: string; name: string };
  parameters: KeyValue[];
}

export interface TriggerSpec {
  name: string;
  where: string;
  /** The feed action, e.g. `/whisk.system/alarms/alarm`; its inputs configure the feed. */
  feed?: string;
  /** The trigger's parameters, or (with a feed) the feed's. */
  parameters: KeyValue[];
  annotations: KeyValue[];
}

export interface RuleSpec {
  name: string;
  where: string;
  trigger: string;
  /** `pkg/a`, `a` (default package) or `/ns/pkg/a`. */
  action: string;
  annotations: KeyValue[];
}

/** One route of a manifest `apis:` entry. */
export interface RouteSpec {
  apiName: string;
  where: string;
  basePath: string;
  path: string;
  method: string;
  /** `pkg/a` or `a`. */
  action: string;
  responseType: string;
}

export interface ProjectSpec {
  name?: string;
  /** The manifest file as the user named it, and its text (the project hash is computed from it). */
  manifestFile: string;
  manifestText: string;
  packages: PackageSpec[];
  bindings: BindingSpec[];
  actions: ActionSpec[];
  sequences: SequenceSpec[];
  triggers: TriggerSpec[];
  rules: RuleSpec[];
  routes: RouteSpec[];
  /** Printed before anything happens. */
  warnings: string[];
}
