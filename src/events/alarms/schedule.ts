/**
 * Alarm schedules, without I/O: reading the feed parameters of `/whisk.system/alarms/{alarm,once,interval}`
 * into a config (with clear 400s), computing fire times, and the READ view (spec §5.4).
 *
 * - alarm: `cron` (5 fields, or 6 with seconds first, or an `@hourly`-style macro), `timezone`,
 *   `startDate`, `stopDate`, `strict`. A 5-field cron fires at a second derived from the trigger's name
 *   (spreading load, as OpenWhisk's provider does) unless `strict` is true, which fires at :00.
 * - once: `date`, `deleteAfterFire` (false, true: delete the trigger, `rules`: the trigger and its rules).
 * - interval: `minutes` (integer > 0) from `startDate` (default: 30 seconds after creation), until `stopDate`.
 * Every kind: `trigger_payload` (an object, or a JSON string) is the fire payload. Dates are epoch
 * milliseconds or ISO 8601 strings.
 */
import { createHash } from 'node:crypto';
import { CronExpressionParser } from 'cron-parser';
import { badRequest } from '../../core/errors.js';

export const FEEDS = ['alarm', 'once', 'interval'] as const;
export type FeedKind = (typeof FEEDS)[number];

export interface AlarmConfig {
  feed: FeedKind;
  cron?: string;
  timezone?: string;
  strict?: boolean;
  date?: number;
  deleteAfterFire?: boolean | 'rules';
  minutes?: number;
  startDate?: number;
  stopDate?: number;
  payload: Record<string, unknown>;
}

export interface AlarmReason {
  /** USER: paused by its owner; AUTO: stopped by the provider (see message). */
  kind: 'USER' | 'AUTO';
  statusCode?: number;
  message: string;
}

export interface AlarmStatus {
  active: boolean;
  /** Epoch ms of the last change of `active`. */
  dateChanged: number;
  reason?: AlarmReason;
}

/** What the provider stores per trigger (a provider record, key `ns/trigger`). */
export interface Schedule {
  namespace: string;
  trigger: string;
  /** The identity whose key created the alarm: fires run as it, and stop when it is revoked. */
  owner: { uuid: string; subject: string };
  config: AlarmConfig;
  status: AlarmStatus;
  created: number;
  lastFire?: number;
  fires: number;
}

/** Parameters a feed action may pass that configure the alarm (everything else is ignored). */
const CONFIG_PARAMS = [
  'cron',
  'timezone',
  'strict',
  'date',
  'deleteAfterFire',
  'minutes',
  'startDate',
  'stopDate',
  'trigger_payload',
] as const;

const DEFAULT_INTERVAL_START_MS = 30_000;

function readDate(name: string, value: unknown): number {
  const t =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && value.trim() !== ''
        ? /^\d+$/.test(value.trim())
          ? Number(value.trim())
          : Date.parse(value)
        : NaN;
  if (!Number.isFinite(t)) throw badRequest(`${name} parameter '${String(value)}' is not a valid date`);
  return t;
}

function readBoolean(name: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  throw badRequest(`${name} parameter must be true or false`);
}

function readPayload(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null || value === '') return {};
  if (typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  if (typeof value === 'string') {
    try {
      const parsed: unknown = JSON.parse(value);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
        return parsed as Record<string, unknown>;
    } catch {
      /* not JSON: carried as a string */
    }
    return { payload: value };
  }
  throw badRequest('trigger_payload parameter must be an object or a JSON string');
}

function checkTimezone(tz: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw badRequest(`timezone parameter '${tz}' is not a valid IANA time zone`);
  }
}

/** Seconds offset of a non-strict 5-field cron: stable per trigger, spread over the minute. */
function secondsOffset(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) % 60;
}

/** The 6-field (or macro) expression the provider runs. */
export function effectiveCron(config: AlarmConfig, key: string): string {
  const cron = config.cron!.trim();
  if (cron.startsWith('@')) return cron;
  const fields = cron.split(/\s+/);
  if (fields.length === 6) return cron;
  return `${config.strict === true ? 0 : secondsOffset(key)} ${cron}`;
}

function checkCron(cron: string, tz: string | undefined): void {
  const fields = cron.trim().split(/\s+/);
  if (!cron.trim().startsWith('@') && fields.length !== 5 && fields.length !== 6)
    throw badRequest(`cron pattern '${cron}' is not valid: it needs 5 fields, or 6 with seconds first`);
  try {
    CronExpressionParser.parse(cron.trim(), tz === undefined ? {} : { tz }).next();
  } catch (err) {
    throw badRequest(`cron pattern '${cron}' is not valid: ${(err as Error).message}`);
  }
}

/** True when the parameters name anything the alarm's config is made of. */
export function hasConfigParams(params: Record<string, unknown>): boolean {
  return CONFIG_PARAMS.some((k) => params[k] !== undefined);
}

/**
 * Reads a config from feed parameters; with `base` (an UPDATE), the given parameters replace the old
 * ones and the rest is kept. Throws 400s with messages meant for the feed's caller.
 */
export function readConfig(
  feed: FeedKind,
  params: Record<string, unknown>,
  now: number,
  base?: AlarmConfig,
): AlarmConfig {
  const c: AlarmConfig = base === undefined ? { feed, payload: {} } : { ...base };
  const has = (k: string) => params[k] !== undefined && params[k] !== null;
  if (has('trigger_payload')) c.payload = readPayload(params.trigger_payload);
  if (has('startDate')) c.startDate = readDate('startDate', params.startDate);
  if (has('stopDate')) c.stopDate = readDate('stopDate', params.stopDate);

  if (feed === 'alarm') {
    if (has('cron')) {
      if (typeof params.cron !== 'string') throw badRequest('cron parameter must be a string');
      c.cron = params.cron.trim();
    }
    if (has('timezone')) {
      if (typeof params.timezone !== 'string') throw badRequest('timezone parameter must be a string');
      checkTimezone(params.timezone);
      c.timezone = params.timezone;
    }
    if (has('strict')) c.strict = readBoolean('strict', params.strict);
    if (c.cron === undefined) throw badRequest('alarms trigger feed is missing the cron parameter');
    checkCron(c.cron, c.timezone);
  } else if (feed === 'once') {
    if (has('date')) {
      c.date = readDate('date', params.date);
      if (c.date <= now) throw badRequest(`date parameter '${String(params.date)}' must be in the future`);
    }
    if (has('deleteAfterFire')) {
      const d = params.deleteAfterFire;
      c.deleteAfterFire = d === 'rules' ? 'rules' : readBoolean('deleteAfterFire', d);
    }
    if (c.date === undefined) throw badRequest('alarms once trigger feed is missing the date parameter');
  } else {
    if (has('minutes')) {
      const m = typeof params.minutes === 'string' ? Number(params.minutes) : params.minutes;
      if (typeof m !== 'number' || !Number.isInteger(m) || m <= 0)
        throw badRequest('the minutes parameter must be an integer greater than zero');
      c.minutes = m;
    }
    if (c.minutes === undefined) throw badRequest('interval trigger feed is missing the minutes parameter');
    c.startDate ??= now + DEFAULT_INTERVAL_START_MS;
  }
  if (c.stopDate !== undefined) {
    if (c.stopDate <= now) throw badRequest('stopDate parameter must be in the future');
    if (c.startDate !== undefined && c.stopDate <= c.startDate)
      throw badRequest('stopDate parameter must be later than startDate');
  }
  return c;
}

/**
 * The first fire time strictly after `after`, or undefined when the schedule has no more (a `once` that
 * fired, a stopDate passed). `key` (`ns/trigger`) seeds a non-strict cron's seconds.
 */
export function nextFire(s: Schedule, after: number): number | undefined {
  const c = s.config;
  let t: number | undefined;
  if (c.feed === 'once') {
    t = s.fires === 0 ? c.date : undefined;
  } else if (c.feed === 'interval') {
    const period = c.minutes! * 60_000;
    const start = c.startDate ?? s.created;
    t = after < start ? start : start + (Math.floor((after - start) / period) + 1) * period;
  } else {
    const from = Math.max(after, (c.startDate ?? 0) - 1);
    const expr = CronExpressionParser.parse(effectiveCron(c, `${s.namespace}/${s.trigger}`), {
      currentDate: new Date(from),
      ...(c.timezone === undefined ? {} : { tz: c.timezone }),
    });
    t = expr.next().getTime();
  }
  if (t === undefined || (c.stopDate !== undefined && t > c.stopDate)) return undefined;
  return t;
}

const iso = (t: number | undefined): string | undefined =>
  t === undefined ? undefined : new Date(t).toISOString();

/** The READ answer: `{config, status}` (spec §5.4), dates as ISO strings. */
export function readView(s: Schedule, next: number | undefined): Record<string, unknown> {
  const c = s.config;
  const config: Record<string, unknown> = {
    name: s.trigger,
    namespace: s.namespace,
    payload: c.payload,
  };
  if (c.feed === 'alarm') {
    config.cron = c.cron;
    if (c.timezone !== undefined) config.timezone = c.timezone;
    config.strict = c.strict === true;
  } else if (c.feed === 'once') {
    config.date = iso(c.date);
    config.deleteAfterFire = c.deleteAfterFire ?? false;
  } else {
    config.minutes = c.minutes;
  }
  if (c.startDate !== undefined) config.startDate = iso(c.startDate);
  if (c.stopDate !== undefined) config.stopDate = iso(c.stopDate);
  const status: Record<string, unknown> = {
    active: s.status.active,
    dateChanged: s.status.dateChanged,
    dateChangedISO: iso(s.status.dateChanged),
  };
  if (s.status.reason !== undefined) status.reason = s.status.reason;
  if (s.lastFire !== undefined) status.lastFireISO = iso(s.lastFire);
  if (s.status.active && next !== undefined) status.nextFireISO = iso(next);
  status.fires = s.fires;
  return { config, status };
}
