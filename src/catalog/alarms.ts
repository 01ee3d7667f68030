/**
 * `/whisk.system/alarms`: the feed actions of the built-in alarms provider (src/events/alarms). Each is
 * a thin, real action: it checks the lifecycle event and forwards its parameters, authenticated with the
 * trigger owner's key (`authKey`, as OpenWhisk clients pass it; else the caller's own key), to the
 * provider's endpoint `POST /api/v1/namespaces/whisk.system/alarms`. Errors come back as `{error}`, so
 * that a failed CREATE fails the client's blocking invoke (and the client removes the trigger).
 */
import type { CatalogAction, CatalogPackage, ParameterDoc } from './types.js';

function feedCode(feed: string): string {
  return `const FEED = '${feed}';
const EVENTS = ['CREATE', 'READ', 'UPDATE', 'DELETE', 'PAUSE', 'UNPAUSE'];

async function main(params) {
  const event = String(params.lifecycleEvent || '').toUpperCase();
  if (!EVENTS.includes(event)) return { error: 'unsupported lifecycleEvent' };
  const key = params.authKey || process.env.__OW_API_KEY;
  if (!key) return { error: 'the alarms feed needs the trigger owner\\'s key: pass authKey' };
  const body = Object.assign({}, params, { lifecycleEvent: event, feed: FEED });
  delete body.authKey;
  delete body.__ow_headers;
  let res;
  try {
    res = await fetch(process.env.__OW_API_HOST + '/api/v1/namespaces/whisk.system/alarms', {
      method: 'POST',
      headers: {
        authorization: 'Basic ' + Buffer.from(key).toString('base64'),
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
  } catch (e) {
    return { error: 'cannot reach the alarms provider: ' + e.message };
  }
  let answer = {};
  try {
    answer = JSON.parse(await res.text());
  } catch (e) {
    answer = {};
  }
  if (!res.ok) return { error: answer.error || 'the alarms provider answered ' + res.status };
  return answer;
}`;
}

const common: ParameterDoc[] = [
  { name: 'trigger_payload', required: false, description: 'the payload of every fire (an object)' },
  { name: 'startDate', required: false, description: 'first possible fire (epoch ms or ISO 8601)' },
  { name: 'stopDate', required: false, description: 'last possible fire (epoch ms or ISO 8601)' },
];

function feed(name: string, description: string, parameters: ParameterDoc[]): CatalogAction {
  return {
    name,
    description,
    code: feedCode(name),
    parameters,
    annotations: [
      { key: 'feed', value: true },
      // Plain REST callers may leave out authKey: the feed then uses the caller's own key.
      { key: 'provide-api-key', value: true },
    ],
  };
}

export const alarms: CatalogPackage = {
  name: 'alarms',
  description: 'Fire triggers on a schedule: cron, once at a date, or every N minutes',
  actions: [
    feed('alarm', 'Fires the trigger on a cron schedule', [
      {
        name: 'cron',
        required: true,
        description: 'cron pattern: 5 fields, or 6 with seconds first (e.g. "*/10 * * * * *")',
      },
      { name: 'timezone', required: false, description: 'IANA time zone of the pattern (default UTC)' },
      { name: 'strict', required: false, description: '5-field patterns fire at second 0 when true' },
      ...common,
    ]),
    feed('once', 'Fires the trigger once, at a date', [
      { name: 'date', required: true, description: 'when to fire (epoch ms or ISO 8601)' },
      {
        name: 'deleteAfterFire',
        required: false,
        description: 'false (default), true (delete the trigger) or "rules" (the trigger and its rules)',
      },
      { name: 'trigger_payload', required: false, description: 'the payload of the fire (an object)' },
    ]),
    feed('interval', 'Fires the trigger every N minutes', [
      { name: 'minutes', required: true, description: 'minutes between fires (an integer > 0)' },
      ...common,
    ]),
  ],
};
