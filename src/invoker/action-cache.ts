/**
 * Action documents by revision, for activation messages that left their code in the store (cluster
 * mode): fetched once per revision and kept, most recently used first, within a byte budget. Concurrent
 * misses for one revision share one fetch.
 */
import type { ActionDoc } from '../core/entities.js';
import type { Store } from '../store/store.js';

export interface CachedAction {
  doc: ActionDoc;
  rev: number;
}

const codeBytes = (doc: ActionDoc) =>
  'code' in doc.exec && doc.exec.code !== undefined ? doc.exec.code.length : 0;

export class ActionCache {
  private readonly entries = new Map<string, CachedAction>();
  private readonly fetching = new Map<string, Promise<CachedAction | undefined>>();
  private bytes = 0;

  constructor(
    private readonly store: Pick<Store, 'getEntity'>,
    private readonly maxBytes = 256 * 1024 * 1024,
  ) {}

  /**
   * The action `name` living at `actionPath` (`ns` or `ns/pkg`) at revision `rev`. When the store has moved
   * on (the action was updated after the invoke was accepted), the stored revision is returned: an invoker
   * cannot run code the store no longer has. Undefined when the action is gone.
   */
  async get(actionPath: string, name: string, rev: number): Promise<CachedAction | undefined> {
    const key = `${actionPath}/${name}#${rev}`;
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    let f = this.fetching.get(key);
    if (f === undefined) {
      f = this.fetch(actionPath, name).finally(() => this.fetching.delete(key));
      this.fetching.set(key, f);
    }
    const found = await f;
    if (found !== undefined && found.rev === rev && !this.entries.has(key)) this.remember(key, found);
    return found;
  }

  private async fetch(actionPath: string, name: string): Promise<CachedAction | undefined> {
    const slash = actionPath.indexOf('/');
    const namespace = slash < 0 ? actionPath : actionPath.slice(0, slash);
    const path = slash < 0 ? name : `${actionPath.slice(slash + 1)}/${name}`;
    const e = await this.store.getEntity(namespace, path);
    return e === undefined || e.type !== 'action' ? undefined : { doc: e.doc as ActionDoc, rev: e.rev };
  }

  private remember(key: string, a: CachedAction): void {
    const size = codeBytes(a.doc);
    if (size > this.maxBytes) return;
    this.entries.set(key, a);
    this.bytes += size;
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= codeBytes(v.doc);
    }
  }
}
