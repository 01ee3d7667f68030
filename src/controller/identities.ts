/**
 * Who is calling: Basic `uuid:key` authentication against hashed keys, with identities and namespace
 * limits cached in memory. Caches are dropped when the store reports a write by another process (admin
 * commands, other controllers), checked at most once a second — the warm path never waits on the store.
 */
import type { Identity } from '../core/identity.js';
import { keyMatches } from '../core/identity.js';
import type { EffectiveLimits, NamespaceLimits, SystemLimits } from '../core/limits.js';
import { effectiveLimits } from '../core/limits.js';
import type { Store } from '../store/store.js';

export interface Caller {
  subject: string;
  namespace: string;
  uuid: string;
  /** The `uuid:key` presented, passed to actions that may call Whirl back. */
  authKey: string;
  limits: EffectiveLimits;
}

const MAX_CACHED = 10_000;

export class Identities {
  private readonly identities = new Map<string, Identity>();
  private readonly limits = new Map<string, EffectiveLimits>();
  /** Namespace → the identity that owns it (web actions run as their owner); null when none. */
  private readonly owners = new Map<string, Caller | null>();
  private marker: number | undefined;
  private lastCheck = 0;

  constructor(
    private readonly store: Store,
    private readonly system: SystemLimits,
  ) {}

  /** The caller for an Authorization header; undefined when absent or invalid. */
  async authenticate(header: string | undefined): Promise<Caller | undefined> {
    if (header === undefined || !header.startsWith('Basic ')) return undefined;
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) return undefined;
    const uuid = decoded.slice(0, colon);
    const key = decoded.slice(colon + 1);
    if (uuid.length > 64 || key.length > 256) return undefined;
    await this.refreshIfChanged();
    let identity = this.identities.get(uuid);
    if (identity === undefined) {
      identity = await this.store.getIdentity(uuid);
      if (identity === undefined) return undefined;
      if (this.identities.size >= MAX_CACHED) this.identities.clear();
      this.identities.set(uuid, identity);
    }
    if (identity.blocked === true || !keyMatches(identity, key)) return undefined;
    return {
      subject: identity.subject,
      namespace: identity.namespace,
      uuid,
      authKey: decoded,
      limits: await this.limitsOf(identity.namespace),
    };
  }

  /** The namespace's effective limits (system defaults with its overrides). */
  async limitsOf(namespace: string): Promise<EffectiveLimits> {
    let l = this.limits.get(namespace);
    if (l === undefined) {
      const overrides: NamespaceLimits | undefined = await this.store.getLimits(namespace);
      l = effectiveLimits(this.system, overrides, namespace);
      if (this.limits.size >= MAX_CACHED) this.limits.clear();
      this.limits.set(namespace, l);
    }
    return l;
  }

  /**
   * The namespace's owner, for requests that run as the namespace without presenting its key (web actions,
   * API gateway routes): its first unblocked identity. Keys are stored hashed, so `authKey` is empty.
   */
  async ownerOf(namespace: string): Promise<Caller | undefined> {
    await this.refreshIfChanged();
    let owner = this.owners.get(namespace);
    if (owner === undefined) {
      const identity = (await this.store.listIdentities({ namespace })).find((i) => i.blocked !== true);
      owner =
        identity === undefined
          ? null
          : {
              subject: identity.subject,
              namespace,
              uuid: identity.uuid,
              authKey: '',
              limits: await this.limitsOf(namespace),
            };
      if (this.owners.size >= MAX_CACHED) this.owners.clear();
      this.owners.set(namespace, owner);
    }
    return owner ?? undefined;
  }

  /** Forgets everything cached (after a local write to identities or limits). */
  invalidate(): void {
    this.identities.clear();
    this.limits.clear();
    this.owners.clear();
  }

  private async refreshIfChanged(): Promise<void> {
    const now = Date.now();
    if (now - this.lastCheck < 1000) return;
    this.lastCheck = now;
    const marker = await this.store.changeMarker();
    if (this.marker !== undefined && marker !== this.marker) this.invalidate();
    this.marker = marker;
  }
}
