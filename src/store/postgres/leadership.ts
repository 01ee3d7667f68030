/**
 * Leadership among the processes of a cluster, for work that must run in exactly one of them (the alarms
 * provider's timers): a PostgreSQL session advisory lock held on a connection of its own. The lock ends
 * with that connection, so a leader that dies, or loses its database, lets another take over.
 */
import type pg from 'pg';
import type { Leadership } from '../../core/ports.js';

export class PostgresLeadership implements Leadership {
  private client: pg.PoolClient | undefined;
  private lostListener: (() => void) | undefined;

  constructor(
    private readonly pool: pg.Pool,
    /** Names what is led: processes sharing the name compete for it. */
    private readonly name: string,
  ) {}

  get leading(): boolean {
    return this.client !== undefined;
  }

  /** Called once when leadership ends without `release()` (the connection broke). */
  onLost(listener: () => void): void {
    this.lostListener = listener;
  }

  /** Becomes the leader if nobody is; true when this process leads. */
  async tryAcquire(): Promise<boolean> {
    if (this.client !== undefined) return true;
    const client = await this.pool.connect();
    try {
      const { rows } = await client.query<{ ok: boolean }>(
        'SELECT pg_try_advisory_lock(hashtext($1)) AS ok',
        [this.name],
      );
      if (rows[0]?.ok !== true) {
        client.release();
        return false;
      }
    } catch (err) {
      client.release(err instanceof Error ? err : true);
      throw err;
    }
    this.client = client;
    const lost = () => {
      if (this.client !== client) return;
      this.client = undefined;
      client.release(true);
      this.lostListener?.();
    };
    client.on('error', lost);
    client.on('end', lost);
    return true;
  }

  /** Gives leadership up (the lock goes with the connection). */
  async release(): Promise<void> {
    const client = this.client;
    if (client === undefined) return;
    this.client = undefined;
    // Destroying the connection ends the session, and with it the lock.
    client.release(true);
  }
}
