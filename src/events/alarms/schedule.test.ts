import { describe, expect, it } from 'vitest';
import { effectiveCron, nextFire, readConfig, readView, type Schedule } from './schedule.js';

const NOW = Date.parse('2030-01-01T12:00:00.000Z');

function schedule(config: Schedule['config'], extra: Partial<Schedule> = {}): Schedule {
  return {
    namespace: 'guest',
    trigger: 't',
    owner: { uuid: 'u', subject: 'guest' },
    config,
    status: { active: true, dateChanged: NOW },
    created: NOW,
    fires: 0,
    ...extra,
  };
}

describe('alarm schedules', () => {
  it('reads cron configs with timezone, payload and dates, and refuses bad ones with clear messages', () => {
    const c = readConfig(
      'alarm',
      {
        cron: '*/10 * * * * *',
        timezone: 'Europe/Paris',
        trigger_payload: '{"a":1}',
        startDate: '2030-01-02T00:00:00Z',
        stopDate: NOW + 86_400_000 * 2,
        ignored: true,
      },
      NOW,
    );
    expect(c).toEqual({
      feed: 'alarm',
      cron: '*/10 * * * * *',
      timezone: 'Europe/Paris',
      payload: { a: 1 },
      startDate: Date.parse('2030-01-02T00:00:00Z'),
      stopDate: NOW + 86_400_000 * 2,
    });
    const bad: [Record<string, unknown>, RegExp][] = [
      [{}, /missing the cron parameter/],
      [{ cron: 'every minute' }, /cron pattern 'every minute' is not valid/],
      [{ cron: '* * * *' }, /5 fields, or 6 with seconds first/],
      [{ cron: '* * * * *', timezone: 'Mars/Olympus' }, /not a valid IANA time zone/],
      [{ cron: '* * * * *', stopDate: 'not a date' }, /stopDate parameter 'not a date' is not a valid date/],
      [{ cron: '* * * * *', stopDate: NOW - 1 }, /stopDate parameter must be in the future/],
      [{ cron: '* * * * *', startDate: NOW + 10_000, stopDate: NOW + 5000 }, /later than startDate/],
      [{ cron: '* * * * *', strict: 'maybe' }, /strict parameter must be true or false/],
    ];
    for (const [params, message] of bad) expect(() => readConfig('alarm', params, NOW)).toThrow(message);
  });

  it('fires 6-field crons on their seconds, and spreads 5-field crons unless strict', () => {
    const six = schedule(readConfig('alarm', { cron: '*/10 * * * * *' }, NOW));
    expect(nextFire(six, NOW)).toBe(NOW + 10_000);
    const strict = schedule(readConfig('alarm', { cron: '* * * * *', strict: 'true' }, NOW));
    expect(nextFire(strict, NOW)).toBe(NOW + 60_000);
    const loose = schedule(readConfig('alarm', { cron: '* * * * *' }, NOW));
    const offset = Number(effectiveCron(loose.config, 'guest/t').split(' ')[0]);
    expect(offset).toBeGreaterThanOrEqual(0);
    expect(offset).toBeLessThan(60);
    expect(effectiveCron(loose.config, 'guest/t')).toBe(effectiveCron(loose.config, 'guest/t'));
    expect(nextFire(loose, NOW)).toBe(NOW + (offset === 0 ? 60_000 : offset * 1000));
  });

  it('honours the timezone, startDate and stopDate of a cron', () => {
    // 09:00 in Tokyo is 00:00 UTC.
    const tokyo = schedule(readConfig('alarm', { cron: '0 0 9 * * *', timezone: 'Asia/Tokyo' }, NOW));
    expect(new Date(nextFire(tokyo, NOW)!).toISOString()).toBe('2030-01-02T00:00:00.000Z');
    const later = schedule(readConfig('alarm', { cron: '0 * * * * *', startDate: NOW + 3_600_000 }, NOW));
    expect(nextFire(later, NOW)).toBe(NOW + 3_600_000);
    const ending = schedule(readConfig('alarm', { cron: '0 * * * * *', stopDate: NOW + 90_000 }, NOW));
    expect(nextFire(ending, NOW)).toBe(NOW + 60_000);
    expect(nextFire(ending, NOW + 60_000)).toBeUndefined();
  });

  it('fires a once alarm at its date, only once, and refuses past dates', () => {
    const once = schedule(
      readConfig('once', { date: new Date(NOW + 5000).toISOString(), deleteAfterFire: 'rules' }, NOW),
    );
    expect(once.config.deleteAfterFire).toBe('rules');
    expect(nextFire(once, NOW)).toBe(NOW + 5000);
    expect(nextFire({ ...once, fires: 1 }, NOW)).toBeUndefined();
    expect(() => readConfig('once', { date: NOW - 1 }, NOW)).toThrow(/must be in the future/);
    expect(() => readConfig('once', {}, NOW)).toThrow(/missing the date parameter/);
    expect(readConfig('once', { date: NOW + 1, deleteAfterFire: 'true' }, NOW).deleteAfterFire).toBe(true);
  });

  it('fires intervals from their start, every N minutes, 30 seconds after creation by default', () => {
    const dflt = schedule(readConfig('interval', { minutes: 2 }, NOW));
    expect(dflt.config.startDate).toBe(NOW + 30_000);
    expect(nextFire(dflt, NOW)).toBe(NOW + 30_000);
    expect(nextFire(dflt, NOW + 30_000)).toBe(NOW + 30_000 + 120_000);
    // After a restart long after the start, the next fire keeps the phase and skips what was missed.
    expect(nextFire(dflt, NOW + 30_000 + 120_000 * 10 + 5)).toBe(NOW + 30_000 + 120_000 * 11);
    for (const minutes of [0, -1, 1.5, 'x'])
      expect(() => readConfig('interval', { minutes }, NOW)).toThrow(/integer greater than zero/);
    expect(readConfig('interval', { minutes: '3' }, NOW).minutes).toBe(3);
  });

  it('updates a config with only the given parameters', () => {
    const base = readConfig('alarm', { cron: '* * * * *', trigger_payload: { a: 1 }, timezone: 'UTC' }, NOW);
    const next = readConfig('alarm', { cron: '0 * * * *' }, NOW, base);
    expect(next).toEqual({ ...base, cron: '0 * * * *' });
  });

  it('shows config and status on READ', () => {
    const s = schedule(readConfig('alarm', { cron: '*/5 * * * * *', trigger_payload: { a: 1 } }, NOW), {
      lastFire: NOW - 5000,
      fires: 3,
    });
    expect(readView(s, NOW + 5000)).toEqual({
      config: { name: 't', namespace: 'guest', payload: { a: 1 }, cron: '*/5 * * * * *', strict: false },
      status: {
        active: true,
        dateChanged: NOW,
        dateChangedISO: '2030-01-01T12:00:00.000Z',
        lastFireISO: '2030-01-01T11:59:55.000Z',
        nextFireISO: '2030-01-01T12:00:05.000Z',
        fires: 3,
      },
    });
  });
});
