/**
 * Exit codes scripts can rely on. The table is the single source: `whirl --help` prints it, the README
 * repeats it, and the tests check both.
 */
export const ExitCode = {
  /** Everything worked (for `action invoke -b`/`-r`: the activation succeeded). */
  Ok: 0,
  /** The server answered with an error (404, 409, 401, 429, 5xx...), or a whisk internal error. */
  RequestFailed: 1,
  /** Bad command line: unknown command or flag, missing argument, unreadable input file. */
  Usage: 2,
  /** The server could not be reached, or the configuration (APIHOST, AUTH) is missing or unusable. */
  Unreachable: 3,
  /** `action invoke -b`/`-r`: the action ran and failed (application or action developer error). */
  ActionFailed: 4,
  /** `action invoke -b`/`-r`: the blocking wait ended before the activation did (HTTP 202). */
  StillRunning: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODE_TABLE: readonly { code: ExitCode; meaning: string }[] = [
  { code: ExitCode.Ok, meaning: 'success (for invoke -b/-r: the activation succeeded)' },
  {
    code: ExitCode.RequestFailed,
    meaning: 'the server refused the request (4xx/5xx), or a whisk internal error',
  },
  { code: ExitCode.Usage, meaning: 'usage error: unknown command or flag, missing argument, bad input file' },
  { code: ExitCode.Unreachable, meaning: 'cannot reach the server, or APIHOST/AUTH missing or unusable' },
  {
    code: ExitCode.ActionFailed,
    meaning: 'invoke -b/-r: the action failed (application or developer error)',
  },
  { code: ExitCode.StillRunning, meaning: 'invoke -b/-r: still running when the blocking wait ended (202)' },
];

/**
 * The exit code of a blocking invoke, from the activation's status. Accepts the numeric `statusCode`
 * (0..3) or the `response.status` text of the extended JSON.
 */
export function activationExitCode(status: number | string | undefined): ExitCode {
  switch (status) {
    case 0:
    case 'success':
      return ExitCode.Ok;
    case 1:
    case 2:
    case 'application error':
    case 'action developer error':
      return ExitCode.ActionFailed;
    default:
      // 3 / 'whisk internal error', or an answer we cannot classify: the platform failed, not the action.
      return ExitCode.RequestFailed;
  }
}

/** The table as help text. */
export function exitCodeHelp(): string {
  return EXIT_CODE_TABLE.map((r) => `  ${r.code}  ${r.meaning}`).join('\n');
}
