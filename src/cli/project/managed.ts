/**
 * Managed projects, as wskdeploy marks them: every entity a project deploys carries the annotation
 *
 *   whisk-managed: {projectName, projectHash, projectDeps, file}
 *
 * where projectHash = SHA1("OpenWhisk " + <manifest size> + "\0" + <manifest>). Sync, undeploy by name
 * and export find a project's entities on the server by it; aio-lib-runtime reads and writes the same.
 */
import { createHash } from 'node:crypto';
import type { WhirlClient } from '../client.js';
import type { Entity, KeyValue } from '../types.js';

export const MANAGED = 'whisk-managed';

export interface ManagedValue {
  projectName: string;
  projectHash: string;
  projectDeps: unknown[];
  file: string;
}

export function projectHash(manifestText: string): string {
  const size = Buffer.byteLength(manifestText, 'utf8');
  return createHash('sha1').update(`OpenWhisk ${size}\0${manifestText}`).digest('hex');
}

export function managedAnnotation(projectName: string, manifestText: string, file: string): KeyValue {
  const value: ManagedValue = {
    projectName,
    projectHash: projectHash(manifestText),
    projectDeps: [],
    file,
  };
  return { key: MANAGED, value };
}

/** The whisk-managed value of an entity, if it has a well-formed one. */
export function managedOf(entity: { annotations?: KeyValue[] | undefined }): ManagedValue | undefined {
  const v = entity.annotations?.find((a) => a.key === MANAGED)?.value as Partial<ManagedValue> | undefined;
  return v !== null && typeof v === 'object' && typeof v.projectName === 'string'
    ? (v as ManagedValue)
    : undefined;
}

/** The entities of one project on the server, by relative name (`pkg/action`, `trigger`). */
export interface ManagedEntities {
  packages: Entity[];
  /** Actions and sequences; `name` is `pkg/action` for actions in packages. */
  actions: Entity[];
  triggers: Entity[];
  rules: Entity[];
}

async function listAll<E extends Entity>(list: (skip: number) => Promise<E[]>): Promise<E[]> {
  const out: E[] = [];
  for (let skip = 0; ; skip += 200) {
    const page = await list(skip);
    out.push(...page);
    if (page.length < 200) return out;
  }
}

/** Every entity of the namespace whose whisk-managed annotation names `projectName`. */
export async function findManaged(client: WhirlClient, projectName: string): Promise<ManagedEntities> {
  const mine = (e: Entity) => managedOf(e)?.projectName === projectName;
  const [packages, actions, triggers, rules] = await Promise.all([
    listAll((skip) => client.packages.list({ limit: 200, skip })),
    listAll((skip) => client.actions.list({ limit: 200, skip })),
    listAll((skip) => client.triggers.list({ limit: 200, skip })),
    listAll((skip) => client.rules.list({ limit: 200, skip })),
  ]);
  return {
    packages: packages.filter(mine),
    // A packaged action lists with namespace `ns/pkg`.
    actions: actions.filter(mine).map((a) => {
      const pkg = a.namespace.split('/')[1];
      return pkg === undefined ? a : { ...a, name: `${pkg}/${a.name}` };
    }),
    triggers: triggers.filter(mine),
    rules: rules.filter(mine),
  };
}
