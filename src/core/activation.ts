/**
 * Activation records (spec §1.6.5) and the 0..3 status codes that say whose fault a failure was.
 */
import { randomUUID } from 'node:crypto';
import type { KeyValue } from './entities.js';

export const StatusCode = {
  Success: 0,
  ApplicationError: 1,
  DeveloperError: 2,
  WhiskError: 3,
} as const;
export type StatusCode = (typeof StatusCode)[keyof typeof StatusCode];

const STATUS_TEXT = [
  'success',
  'application error',
  'action developer error',
  'whisk internal error',
] as const;

export function statusText(code: StatusCode): string {
  return STATUS_TEXT[code];
}

export interface ActivationResponse {
  statusCode: StatusCode;
  result?: unknown;
  /** Bytes of the JSON result, when there is one. */
  size?: number;
}

/** The stored record. `end`/`duration` are absent on trigger activations. */
export interface ActivationRecord {
  /** The invoking (caller's) namespace: it owns the record. */
  namespace: string;
  name: string;
  version: string;
  subject: string;
  publish: boolean;
  activationId: string;
  start: number;
  end?: number;
  duration?: number;
  cause?: string;
  response: ActivationResponse;
  logs: string[];
  annotations: KeyValue[];
}

/** What a record is made of; the rest (`publish`, `duration`) follows from it. */
export interface RecordFields {
  /** The invoking namespace, and the subject of its key. */
  namespace: string;
  subject: string;
  /** The entity that ran (action, sequence, conductor, trigger) and its version. */
  name: string;
  version: string;
  activationId: string;
  start: number;
  /** Absent for records of things that have no end of their own (a trigger's fire). */
  end?: number;
  /** Defaults to end - start; a composition gives the sum of its components' instead. */
  duration?: number;
  cause?: string | undefined;
  response: ActivationResponse;
  logs?: string[];
  annotations?: KeyValue[];
}

/** The one constructor of activation records: invokers, compositions and trigger fires all use it. */
export function activationRecord(f: RecordFields): ActivationRecord {
  return {
    namespace: f.namespace,
    name: f.name,
    version: f.version,
    subject: f.subject,
    publish: false,
    activationId: f.activationId,
    start: f.start,
    ...(f.end === undefined ? {} : { end: f.end, duration: f.duration ?? f.end - f.start }),
    ...(f.cause === undefined ? {} : { cause: f.cause }),
    response: f.response,
    logs: f.logs ?? [],
    annotations: f.annotations ?? [],
  };
}

/** 32 lowercase hex characters, as OpenWhisk's activation ids. */
export function newActivationId(): string {
  return randomUUID().replaceAll('-', '');
}

export const ACTIVATION_ID = /^[0-9a-f]{32}$/;

export function errorResponse(statusCode: StatusCode, message: unknown): ActivationResponse {
  return { statusCode, result: { error: message } };
}

/** `{status, statusCode?, success, result, size}`: the form GET and invoke return (statusCode dropped). */
export function extendedResponse(r: ActivationResponse): Record<string, unknown> {
  const out: Record<string, unknown> = { status: statusText(r.statusCode), success: r.statusCode === 0 };
  if (r.result !== undefined) out.result = r.result;
  if (r.size !== undefined) out.size = r.size;
  return out;
}

export function toExtendedJson(a: ActivationRecord): Record<string, unknown> {
  const { response, ...rest } = a;
  return { ...rest, response: extendedResponse(response) };
}

/** List summaries carry a top-level statusCode and no result or logs. */
export function toSummaryJson(a: ActivationRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    namespace: a.namespace,
    name: a.name,
    version: a.version,
    subject: a.subject,
    publish: a.publish,
    activationId: a.activationId,
    start: a.start,
    annotations: a.annotations,
    statusCode: a.response.statusCode,
  };
  if (a.end !== undefined) out.end = a.end;
  if (a.duration !== undefined) out.duration = a.duration;
  if (a.cause !== undefined) out.cause = a.cause;
  return out;
}

/** The `pkg/name` (or `name`) of the entity an activation ran, taken from its `path` annotation. */
export function activationEntityPath(a: ActivationRecord): string {
  const path = a.annotations.find((x) => x.key === 'path')?.value;
  if (typeof path !== 'string') return a.name;
  const slash = path.indexOf('/');
  return slash < 0 ? a.name : path.slice(slash + 1);
}

/** Wire strings of activation failures (OpenWhisk's Messages), matched by clients and tests. */
export const ActivationMessages = {
  abnormalInitialization: 'The action did not initialize and exited unexpectedly.',
  abnormalRun: 'The action did not produce a valid response and exited unexpectedly.',
  memoryExhausted: 'The action exhausted its memory and was aborted.',
  provisionError: 'Failed to provision resources to run the action.',
  imagePullError: (image: string) => `Failed to pull container image '${image}'.`,
  timedOut: (ms: number, init: boolean) =>
    `The action exceeded its time limits of ${ms} milliseconds${init ? ' during initialization.' : '.'}`,
  invalidInitResponse: (body: string) => `The action failed during initialization${body ? `: ${body}` : '.'}`,
  invalidRunResponse: (body: string) =>
    `The action did not produce a valid JSON response${body ? `: ${body}` : '.'}`,
  truncatedResponse: (trunk: string, length: number, max: number) =>
    `The action produced a response that exceeded the allowed length: ${length} > ${max} bytes. The truncated response was: ${trunk}`,
  truncatedLogs: (limit: number) =>
    `Logs were truncated because the total bytes size exceeds the limit of ${limit} bytes.`,
  logFailure: 'There was an issue while collecting your logs. Data might be missing.',
  logWarningDeveloperError: 'The action did not initialize or run as expected. Log data might be missing.',
  actionRemoved: 'Action could not be found or may have been deleted.',
  interrupted: (invoker: string) =>
    `The activation was interrupted: invoker '${invoker}' stopped while running it. It was not run again because the action is not annotated 'retry-safe'.`,
} as const;
