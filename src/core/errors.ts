/**
 * Errors that cross the API boundary. Every failure the controller reports is a WhirlError carrying the
 * HTTP status and the exact message OpenWhisk clients match on; one place (controller/app.ts) turns it into
 * the `{"error", "code"}` envelope.
 */
export class WhirlError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Extra response headers (for example Retry-After on throttles). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'WhirlError';
  }
}

/** The wire strings of OpenWhisk's `Messages` that more than one module needs. */
export const Messages = {
  notFound: 'The requested resource does not exist.',
  notFoundNamed: (what: string) => `The requested resource '${what}' does not exist.`,
  unauthenticated: 'The supplied authentication is invalid',
  credentialsMissing: 'The resource requires authentication, which was not supplied with the request',
  notAuthorized: 'The supplied authentication is not authorized to access this resource.',
  notAuthorizedFor: (what: string) => `The supplied authentication is not authorized to access '${what}'.`,
  alreadyExists: 'resource already exists',
  conflict: 'Concurrent modification to resource detected.',
  wrongCollection: 'Resource by this name exists but is not in this collection.',
  illegalName: 'The name of the entity contains illegal characters.',
  nameTooLong: (n: number, max: number) => `Name segement longer than allowed: ${n} > ${max}.`,
  requestTooLarge: (size: number | string, max: number) =>
    `Request larger than allowed: ${size} > ${max} bytes.`,
  entityTooLarge: (field: string, size: number, max: number) =>
    `${field} larger than allowed: ${size} > ${max} bytes.`,
  execUndefined: 'exec undefined',
  reservedParams: 'Request defines parameters that are not allowed (e.g., reserved properties).',
  badTimeout: (max: number) => `Timeout must be number of milliseconds up to ${max}.`,
  malformed: (detail: string) => `The request content was malformed:\n${detail}`,
  unsupportedKind: (kind: string, valid: string) =>
    `The specified runtime '${kind}' is not supported by this platform. Valid values are: ${valid}.`,
  kindNotAllowed: (kind: string) =>
    `The supplied authentication is not authorized to access actions of kind '${kind}'.`,
  methodNotAllowed: 'HTTP method not allowed, supported methods: ',
  serviceUnavailable:
    'The server is currently unavailable (because it is overloaded or down for maintenance).',
  internal: 'The server encountered an unexpected condition which prevented it from fulfilling the request.',
  tooManyRequests: (count: number, allowed: number) =>
    `Too many requests in the last minute (count: ${count}, allowed: ${allowed}).`,
  tooManyConcurrent: (count: number, allowed: number) =>
    `Too many concurrent requests in flight (count: ${count}, allowed: ${allowed}).`,
} as const;

export const notFound = (): WhirlError => new WhirlError(404, Messages.notFound);
export const badRequest = (message: string): WhirlError => new WhirlError(400, message);
export const forbidden = (what?: string): WhirlError =>
  new WhirlError(403, what === undefined ? Messages.notAuthorized : Messages.notAuthorizedFor(what));

/** A command line that cannot be run as given (unknown flag, missing value): the CLIs exit with status 2. */
export class UsageError extends Error {}
