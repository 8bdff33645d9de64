// CLI error handling: a user error prints one clear line and exits 2; anything else prints its
// message (and the stack only with VLMC_DEBUG=1) and exits 1.

/** An error caused by the user's input (bad flag value, missing file): no stack trace. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export function reportAndExit(err: unknown): never {
  const debug = process.env.VLMC_DEBUG === "1";
  if (err instanceof UsageError) {
    console.error(`vlmc: ${err.message}`);
    process.exit(2);
  }
  const e = err instanceof Error ? err : new Error(String(err));
  console.error(`vlmc: ${e.message}`);
  if (debug) console.error(e.stack);
  else console.error("(set VLMC_DEBUG=1 for the stack trace)");
  process.exit(1);
}

/** Parses a positive integer flag, naming the flag on error. */
export function parsePositiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive integer, got "${value}"`);
  return n;
}
