// Progress with rate and ETA: one rewritten line on a terminal, plain lines (at most one every few
// seconds) when stderr is not a TTY, so logs stay readable in files and CI.

export interface ProgressOptions {
  total: number;
  label: string;
  /** Where lines go (default stderr). */
  stream?: NodeJS.WriteStream;
  /** Minimum ms between plain lines when not a TTY. */
  plainEveryMs?: number;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "?";
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : m > 0 ? `${m}m${String(sec).padStart(2, "0")}s` : `${sec}s`;
}

export class Progress {
  readonly #o: Required<ProgressOptions>;
  readonly #start = performance.now();
  #startDone = 0;
  #lastPlain = 0;
  #done = 0;

  constructor(opts: ProgressOptions, alreadyDone = 0) {
    this.#o = { stream: process.stderr, plainEveryMs: 10_000, ...opts };
    this.#done = this.#startDone = alreadyDone;
  }

  /** Reports `done` of `total`, with a short status (e.g. "loss 1.23"). */
  update(done: number, status = ""): void {
    this.#done = done;
    const elapsed = performance.now() - this.#start;
    const rate = (done - this.#startDone) / Math.max(elapsed, 1); // per ms
    const eta = rate > 0 ? (this.#o.total - done) / rate : Infinity;
    const pct = ((100 * done) / Math.max(this.#o.total, 1)).toFixed(1);
    const line = `${this.#o.label} ${done}/${this.#o.total} (${pct}%) ${status} | ${(rate * 1000).toFixed(2)}/s, elapsed ${formatDuration(elapsed)}, ETA ${formatDuration(eta)}`;
    if (this.#o.stream.isTTY) {
      const w = this.#o.stream.columns ?? 120;
      this.#o.stream.write(`\r${line.slice(0, w - 1).padEnd(w - 1)}`);
    } else if (performance.now() - this.#lastPlain >= this.#o.plainEveryMs || done === this.#o.total) {
      this.#lastPlain = performance.now();
      this.#o.stream.write(line + "\n");
    }
  }

  /** Ends the line on a terminal; prints a message on its own line. */
  log(message: string): void {
    if (this.#o.stream.isTTY) this.#o.stream.write("\r\x1b[K");
    this.#o.stream.write(message + "\n");
  }

  finish(): void {
    if (this.#o.stream.isTTY) this.#o.stream.write("\n");
  }
}
