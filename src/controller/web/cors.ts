/**
 * CORS for web actions and API routes (spec §4.3): any origin, every web method, and the headers the
 * browser asks for in its preflight (echoing them is what lets custom headers through; apache/openwhisk#2653).
 */
export const WEB_METHODS = ['OPTIONS', 'GET', 'DELETE', 'POST', 'PUT', 'HEAD', 'PATCH'] as const;

export const DEFAULT_ALLOW_HEADERS =
  'Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent';

/** The CORS headers for a request with these headers; `methods` narrows the advertised methods. */
export function corsHeaders(
  requestHeaders: Record<string, string | string[] | undefined>,
  methods: readonly string[] = WEB_METHODS,
): Record<string, string> {
  const asked = requestHeaders['access-control-request-headers'];
  const allowHeaders = Array.isArray(asked) ? asked.join(', ') : asked;
  return {
    'access-control-allow-origin': '*',
    'access-control-allow-methods': methods.join(', '),
    'access-control-allow-headers':
      allowHeaders === undefined || allowHeaders.trim() === '' ? DEFAULT_ALLOW_HEADERS : allowHeaders,
    // Not in OpenWhisk: without it, a script cannot read the id of the activation that answered it.
    'access-control-expose-headers': 'x-openwhisk-activation-id',
  };
}
