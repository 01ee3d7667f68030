/**
 * Rule links: a rule's status lives on its trigger (the trigger's `rules` map, keyed `ns/rule`), as in
 * OpenWhisk, so that firing reads one document. Links change by compare-and-set on the trigger, retried
 * when a concurrent writer got there first.
 */
import type { RuleDoc, TriggerDoc } from '../../core/entities.js';
import { Messages, WhirlError } from '../../core/errors.js';
import type { Entities } from '../entities.js';
import { ConflictError, type StoredEntity } from '../../store/store.js';

export type RuleStatus = 'active' | 'inactive';
export type RuleLink = NonNullable<TriggerDoc['rules']>[string];

const MAX_ATTEMPTS = 8;

/** The key of a rule in its trigger's `rules` map: `ns/rule`. */
export const ruleKey = (namespace: string, name: string): string => `${namespace}/${name}`;

/** The trigger document at `namespace/name`, if there is one (another collection's entity is none). */
export async function getTrigger(
  entities: Entities,
  namespace: string,
  name: string,
): Promise<StoredEntity<TriggerDoc> | undefined> {
  const found = await entities.get(namespace, name);
  return found?.type === 'trigger' ? (found as StoredEntity<TriggerDoc>) : undefined;
}

/** A rule's status as its trigger records it; inactive when the trigger or the link is gone. */
export function statusOn(trigger: TriggerDoc | undefined, key: string): RuleStatus {
  return trigger?.rules?.[key]?.status ?? 'inactive';
}

/**
 * Rewrites a trigger's rule links with `change` (which edits the map in place), retrying on concurrent
 * writes. Returns false when the trigger does not exist. Neither the version nor `updated` change: links
 * are not user edits of the trigger.
 */
export async function updateLinks(
  entities: Entities,
  namespace: string,
  name: string,
  change: (rules: Record<string, RuleLink>) => void,
): Promise<boolean> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const trigger = await getTrigger(entities, namespace, name);
    if (trigger === undefined) return false;
    const rules = { ...(trigger.doc.rules ?? {}) };
    change(rules);
    const doc: TriggerDoc = { ...trigger.doc };
    if (Object.keys(rules).length > 0) doc.rules = rules;
    else delete doc.rules;
    try {
      await entities.put(namespace, name, 'trigger', doc, trigger.rev);
      return true;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      // Someone else wrote the trigger meanwhile: read it again and reapply the change.
    }
  }
  throw new WhirlError(409, Messages.conflict);
}

/** Removes a rule and its link (the trigger may be gone already). False when the rule was not there. */
export async function deleteRule(entities: Entities, namespace: string, name: string): Promise<boolean> {
  const found = await entities.get(namespace, name);
  if (found?.type !== 'rule') return false;
  const rule = found.doc as RuleDoc;
  const key = ruleKey(namespace, name);
  await updateLinks(entities, rule.trigger.path, rule.trigger.name, (rules) => {
    delete rules[key];
  });
  return entities.delete(namespace, name);
}
