/**
 * Finding the action a request names, through packages and bindings, with entitlement (spec §1.8, §6.3):
 * owners see everything of theirs; others may read and invoke only actions of public packages (directly or
 * through a binding they own). A foreign private entity is a 403 that never says whether it exists.
 */
import type { ActionDoc, KeyValue, PackageDoc } from '../core/entities.js';
import { Messages, WhirlError, forbidden, notFound } from '../core/errors.js';
import { entityPath, qualifiedPath, type EntityRef } from '../core/names.js';
import type { StoredEntity } from '../store/store.js';
import type { Entities } from './entities.js';
import type { Caller } from './identities.js';

export interface ResolvedAction {
  doc: ActionDoc;
  rev: number;
  /** Where the action really lives: `ns` or `ns/pkg` (a binding resolves to its package). */
  path: string;
  /** Package and binding parameters merged with the action's, lowest precedence first. */
  params: KeyValue[];
  /** Record annotations that depend on how it was reached (`binding`). */
  annotations: KeyValue[];
}

export interface ResolvedPackage {
  entity: StoredEntity<PackageDoc>;
  /** The package the name resolves to (the bound one, for a binding). */
  target: { namespace: string; name: string; doc: PackageDoc };
  /** Binding parameters over package parameters. */
  params: KeyValue[];
  /** Set when the name was a binding: `ns/binding`. */
  binding?: string;
}

const mergeParams = (...layers: (readonly KeyValue[])[]): KeyValue[] => {
  const out = new Map<string, KeyValue>();
  for (const layer of layers) {
    for (const p of layer) {
      // Re-inserting moves the key last, so the merged order follows the highest layer.
      out.delete(p.key);
      out.set(p.key, p);
    }
  }
  return [...out.values()];
};

/** Resolves a package or binding the caller may read; 403 for a foreign one it may not (or that is missing). */
export async function resolvePackage(
  entities: Entities,
  caller: Caller,
  namespace: string,
  name: string,
): Promise<ResolvedPackage> {
  const owner = namespace === caller.namespace;
  const what = `${namespace}/${name}`;
  const found = await entities.get(namespace, name);
  if (found === undefined || found.type !== 'package') {
    if (!owner) throw forbidden(what);
    throw found === undefined
      ? new WhirlError(404, Messages.notFoundNamed(what))
      : new WhirlError(409, Messages.wrongCollection);
  }
  const pkg = found as StoredEntity<PackageDoc>;
  const binding = pkg.doc.binding;
  if ('namespace' in binding) {
    // Bindings are private to their owner.
    if (!owner) throw forbidden(what);
    const bound = await entities.get(binding.namespace, binding.name);
    if (bound === undefined || bound.type !== 'package')
      throw new WhirlError(404, Messages.notFoundNamed(`${binding.namespace}/${binding.name}`));
    const target = bound.doc as PackageDoc;
    if (binding.namespace !== caller.namespace && !target.publish)
      throw forbidden(`${binding.namespace}/${binding.name}`);
    return {
      entity: pkg,
      target: { namespace: binding.namespace, name: binding.name, doc: target },
      params: mergeParams(target.parameters, pkg.doc.parameters),
      binding: what,
    };
  }
  if (!owner && !pkg.doc.publish) throw forbidden(what);
  return { entity: pkg, target: { namespace, name, doc: pkg.doc }, params: pkg.doc.parameters };
}

/** The action `ref` names, for reading or invoking by `caller`. */
export async function resolveAction(
  entities: Entities,
  caller: Caller,
  ref: EntityRef,
): Promise<ResolvedAction> {
  const owner = ref.namespace === caller.namespace;
  if (ref.pkg === undefined) {
    if (!owner) throw forbidden(qualifiedPath(ref));
    const found = await entities.get(ref.namespace, ref.name);
    if (found === undefined) throw notFound();
    if (found.type !== 'action') throw new WhirlError(409, Messages.wrongCollection);
    const doc = found.doc as ActionDoc;
    return { doc, rev: found.rev, path: ref.namespace, params: doc.parameters, annotations: [] };
  }
  const pkg = await resolvePackage(entities, caller, ref.namespace, ref.pkg);
  const found = await entities.get(
    pkg.target.namespace,
    entityPath({ pkg: pkg.target.name, name: ref.name }),
  );
  if (found === undefined) throw notFound();
  if (found.type !== 'action') throw new WhirlError(409, Messages.wrongCollection);
  const doc = found.doc as ActionDoc;
  return {
    doc,
    rev: found.rev,
    path: `${pkg.target.namespace}/${pkg.target.name}`,
    params: mergeParams(pkg.params, doc.parameters),
    annotations: pkg.binding === undefined ? [] : [{ key: 'binding', value: pkg.binding }],
  };
}

export { mergeParams };
