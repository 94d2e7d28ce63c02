/**
 * Exit codes, stable for scripts:
 *
 *   0 ok · 1 the operation failed (refused, not delivered, a check failed) · 2 usage (bad flags or arguments)
 *   3 configuration (invalid or missing config, credentials) · 4 no hub reachable / network · 5 the API token was
 *   refused (missing, invalid, revoked, wrong scope) · 6 not found · 7 conflict (e.g. a task already done)
 */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  config: 3,
  unavailable: 4,
  auth: 5,
  notFound: 6,
  conflict: 7,
} as const;

type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error that ends the command with a message for the user and a specific exit code. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    /** Machine-readable code for `--json` output. */
    readonly code: string = 'error',
  ) {
    super(message);
  }
}

export const usage = (message: string) => new CliError(EXIT.usage, message, 'usage');
