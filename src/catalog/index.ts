/**
 * The system catalog: public packages in `whisk.system` — `utils`, `samples` and `alarms` — whose actions
 * are written in this project. Installed at start-up, idempotently: each package carries a
 * `catalog-version` annotation (a digest of its definition), and a package is rewritten only when its
 * version differs or an action of it is missing. Actions the catalog no longer has are removed.
 */
import { createHash } from 'node:crypto';
import type { ActionDoc, KeyValue, PackageDoc } from '../core/entities.js';
import { bumpVersion, getAnnotation } from '../core/entities.js';
import type { SystemLimits } from '../core/limits.js';
import { ConflictError, type Store, type StoredEntity } from '../store/store.js';
import { alarms } from './alarms.js';
import { samples } from './samples.js';
import type { CatalogAction, CatalogPackage } from './types.js';
import { utils } from './utils.js';

export type { CatalogAction, CatalogPackage } from './types.js';

export const CATALOG_NAMESPACE = 'whisk.system';
export const CATALOG: readonly CatalogPackage[] = [utils, samples, alarms];
const KIND = 'nodejs:20';

/** The version of one package's definition: changes whenever its code or metadata do. */
export function packageVersion(pkg: CatalogPackage): string {
  return createHash('sha256').update(JSON.stringify(pkg)).digest('hex').slice(0, 16);
}

export interface InstallReport {
  /** Packages written now (new or upgraded). */
  installed: string[];
  /** Packages already at their version. */
  current: string[];
}

function actionDoc(
  pkg: CatalogPackage,
  a: CatalogAction,
  system: SystemLimits,
  previous?: ActionDoc,
): ActionDoc {
  let annotations: KeyValue[] = [{ key: 'description', value: a.description }];
  if (a.parameters !== undefined) annotations.push({ key: 'parameters', value: a.parameters });
  annotations.push(...(a.annotations ?? []));
  if (getAnnotation(annotations, 'provide-api-key') === undefined)
    annotations.push({ key: 'provide-api-key', value: false });
  annotations = [...annotations, { key: 'exec', value: KIND }];
  return {
    namespace: `${CATALOG_NAMESPACE}/${pkg.name}`,
    name: a.name,
    version: previous === undefined ? '0.0.1' : bumpVersion(previous.version),
    publish: false,
    exec: { kind: KIND, code: a.code, binary: false },
    parameters: a.defaults ?? [],
    limits: {
      timeout: system.timeoutMs.std,
      memory: system.memoryMB.std,
      logs: system.logsMB.std,
      concurrency: 1,
    },
    annotations,
    updated: Date.now(),
  };
}

/** Writes `doc` at `path` over whatever revision is there (or creates it). */
async function upsert(
  store: Store,
  path: string,
  type: 'package' | 'action',
  doc: PackageDoc | ActionDoc,
  existing: StoredEntity | undefined,
): Promise<void> {
  try {
    await store.putEntity(CATALOG_NAMESPACE, path, type, doc, existing?.rev ?? null);
  } catch (err) {
    // Another controller installing at the same moment: its write is as good as ours.
    if (!(err instanceof ConflictError)) throw err;
  }
}

async function isCurrent(store: Store, pkg: CatalogPackage, version: string): Promise<boolean> {
  const found = await store.getEntity(CATALOG_NAMESPACE, pkg.name);
  if (found?.type !== 'package' || getAnnotation(found.doc.annotations, 'catalog-version') !== version)
    return false;
  for (const a of pkg.actions) {
    const action = await store.getEntity(CATALOG_NAMESPACE, `${pkg.name}/${a.name}`);
    if (action?.type !== 'action') return false;
  }
  return true;
}

/** Installs or upgrades the catalog; packages already current are left as they are. */
export async function installCatalog(store: Store, system: SystemLimits): Promise<InstallReport> {
  const report: InstallReport = { installed: [], current: [] };
  for (const pkg of CATALOG) {
    const version = packageVersion(pkg);
    if (await isCurrent(store, pkg, version)) {
      report.current.push(pkg.name);
      continue;
    }
    const existing = await store.getEntity(CATALOG_NAMESPACE, pkg.name);
    if (existing !== undefined && existing.type !== 'package')
      throw new Error(`whisk.system/${pkg.name} exists and is not a package: cannot install the catalog`);
    const previous = existing?.doc as PackageDoc | undefined;
    const doc: PackageDoc = {
      namespace: CATALOG_NAMESPACE,
      name: pkg.name,
      version: previous === undefined ? '0.0.1' : bumpVersion(previous.version),
      publish: true,
      annotations: [
        { key: 'description', value: pkg.description },
        { key: 'catalog-version', value: version },
      ],
      parameters: pkg.parameters ?? [],
      binding: {},
      updated: Date.now(),
    };
    await upsert(store, pkg.name, 'package', doc, existing);
    const wanted = new Set(pkg.actions.map((a) => a.name));
    for (const a of pkg.actions) {
      const path = `${pkg.name}/${a.name}`;
      const old = await store.getEntity(CATALOG_NAMESPACE, path);
      if (old !== undefined && old.type !== 'action')
        throw new Error(`whisk.system/${path} exists and is not an action: cannot install the catalog`);
      await upsert(store, path, 'action', actionDoc(pkg, a, system, old?.doc as ActionDoc | undefined), old);
    }
    const members = await store.listEntities(CATALOG_NAMESPACE, 'action', {
      skip: 0,
      limit: 1000,
      pkg: pkg.name,
    });
    for (const m of members)
      if (!wanted.has(m.name)) await store.deleteEntity(CATALOG_NAMESPACE, `${pkg.name}/${m.name}`);
    report.installed.push(pkg.name);
  }
  return report;
}
