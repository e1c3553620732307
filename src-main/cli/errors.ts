// An error the user caused (bad flag, unknown model, missing file): printed as one line, exit code 2.
export class UsageError extends Error {
  override name = 'UsageError';
}
