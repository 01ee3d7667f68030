/**
 * From a ProjectSpec to a Plan: the REST bodies that deploy it, in the order that works (packages and
 * bindings, actions, sequences, API routes, triggers, rules). Building reads the code (and zips folders),
 * so a missing or unreadable file stops the deploy before anything reaches the server.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { encodeCode } from '../exec.js';
import { mergeKeyValues } from '../keyvalues.js';
import { qualifyComponent } from '../names.js';
import type {
  ActionPut,
  ApiRouteInput,
  CodeExec,
  KeyValue,
  PackagePut,
  RulePut,
  TriggerPut,
} from '../types.js';
import { managedAnnotation } from './managed.js';
import type { ActionSpec, ProjectSpec } from './model.js';
import { ManifestError } from './source.js';
import { zipFolder } from './zip.js';

export type Step =
  | { type: 'package'; name: string; body: PackagePut }
  | { type: 'binding'; name: string; target: string; body: PackagePut }
  | { type: 'action'; name: string; body: ActionPut; note?: string }
  | { type: 'sequence'; name: string; body: ActionPut }
  | { type: 'route'; name: string; route: ApiRouteInput }
  /** With a feed, the trigger carries no parameters: `feedParameters` go to the feed (CREATE). */
  | {
      type: 'trigger';
      name: string;
      body: TriggerPut;
      feed?: string;
      feedParameters: Record<string, unknown>;
    }
  | { type: 'rule'; name: string; body: RulePut };

export type StepType = Step['type'];

export interface Plan {
  projectName: string | undefined;
  /** The whisk-managed annotation every entity gets (when the project has a name). */
  managed: KeyValue | undefined;
  steps: Step[];
  warnings: string[];
}

/** `GET /books/{id}` of API `/library`: how a route is named in plans and reports. */
export function routeName(r: { basePath: string; path: string; method: string }): string {
  const base = r.basePath === '/' ? '' : r.basePath;
  return `${r.method.toUpperCase()} ${base}${r.path === '/' && base !== '' ? '' : r.path}`;
}

function actionExec(a: ActionSpec, warnings: string[]): { exec: CodeExec; note?: string } {
  const kind = a.kind ?? 'blackbox';
  const extra = {
    ...(a.image === undefined ? {} : { image: a.image }),
    ...(a.main === undefined ? {} : { main: a.main }),
  };
  switch (a.code.from) {
    case 'image':
      return { exec: { kind, ...extra } };
    case 'inline':
      return { exec: { kind, code: a.code.code, binary: false, ...extra } };
    case 'directory': {
      const z = zipFolder(a.code.path);
      if (z.skipped.length > 0) {
        warnings.push(
          `${a.where}: left out of the zip, being symbolic links: ${z.skipped.slice(0, 5).join(', ')}${z.skipped.length > 5 ? ', ...' : ''}`,
        );
      }
      const note = `${relative(process.cwd(), a.code.path) || '.'} zipped: ${z.files} files, ${z.zip.length} bytes`;
      return { exec: { kind, code: z.zip.toString('base64'), binary: true, ...extra }, note };
    }
    case 'file': {
      const content = readFileSync(a.code.path);
      const { code, binary } = encodeCode({ path: a.code.path, content, executable: false });
      return { exec: { kind, code, binary, ...extra } };
    }
  }
}

/**
 * The plan for `spec` in `namespace` (`_` or the key's namespace name). Entities get the whisk-managed
 * annotation when the project has a name, so that sync, undeploy and export can find them later.
 */
export function buildPlan(spec: ProjectSpec, namespace: string): Plan {
  const warnings = [...spec.warnings];
  const managed =
    spec.name === undefined ? undefined : managedAnnotation(spec.name, spec.manifestText, spec.manifestFile);
  const mark = (annotations: KeyValue[]) =>
    managed === undefined ? annotations : mergeKeyValues(annotations, [managed]);
  const steps: Step[] = [];
  const problems: string[] = [];

  for (const p of spec.packages) {
    steps.push({
      type: 'package',
      name: p.name,
      body: { parameters: p.parameters, annotations: mark(p.annotations), publish: p.publish },
    });
  }
  for (const b of spec.bindings) {
    steps.push({
      type: 'binding',
      name: b.name,
      target: `/${b.target.namespace}/${b.target.name}`,
      body: { binding: b.target, parameters: b.parameters, annotations: mark([]) },
    });
  }
  for (const a of spec.actions) {
    try {
      const { exec, note } = actionExec(a, warnings);
      const body: ActionPut = { exec, parameters: a.parameters, annotations: mark(a.annotations) };
      if (a.limits !== undefined) body.limits = a.limits;
      steps.push({ type: 'action', name: a.name, body, ...(note === undefined ? {} : { note }) });
    } catch (err) {
      problems.push(`${a.where}: cannot read the code: ${(err as Error).message}`);
    }
  }
  for (const s of spec.sequences) {
    steps.push({
      type: 'sequence',
      name: s.name,
      body: {
        exec: { kind: 'sequence', components: s.components.map((c) => qualifyComponent(c, namespace)) },
        annotations: mark(s.annotations),
      },
    });
  }
  for (const r of spec.routes) {
    steps.push({
      type: 'route',
      name: routeName(r),
      route: {
        basePath: r.basePath,
        path: r.path,
        method: r.method,
        action: r.action,
        responseType: r.responseType,
        name: r.apiName,
      },
    });
  }
  for (const t of spec.triggers) {
    const feedParameters = Object.fromEntries(t.parameters.map((kv) => [kv.key, kv.value]));
    steps.push(
      t.feed === undefined
        ? {
            type: 'trigger',
            name: t.name,
            body: { parameters: t.parameters, annotations: mark(t.annotations) },
            feedParameters: {},
          }
        : {
            type: 'trigger',
            name: t.name,
            feed: qualifyComponent(t.feed, namespace),
            body: {
              annotations: mark(
                mergeKeyValues(t.annotations, [{ key: 'feed', value: qualifyComponent(t.feed, namespace) }]),
              ),
            },
            feedParameters,
          },
    );
  }
  for (const r of spec.rules) {
    steps.push({
      type: 'rule',
      name: r.name,
      body: {
        trigger: qualifyComponent(r.trigger, namespace),
        action: qualifyComponent(r.action, namespace),
        annotations: mark(r.annotations),
      },
    });
  }
  if (problems.length > 0) throw new ManifestError(problems);
  return { projectName: spec.name, managed, steps, warnings };
}
