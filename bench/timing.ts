// Timing for benchmarks: the median of several runs after warm-up (this machine is shared and noisy,
// so single runs and means mislead). Never used in tests.

export interface TimingOptions {
  warmup?: number;
  runs?: number;
  /** Stop adding runs once this many ms have been spent (at least `minRuns` are always done). */
  budgetMs?: number;
  minRuns?: number;
}

export interface Timing {
  medianMs: number;
  minMs: number;
  runs: number;
  /** Every timed run, ms, in order. */
  runsMs: number[];
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function timeIt(fn: () => void, opts: TimingOptions = {}): Timing {
  const warmup = opts.warmup ?? 2, runs = opts.runs ?? 7, minRuns = opts.minRuns ?? 3;
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  const start = performance.now();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
    if (opts.budgetMs !== undefined && times.length >= minRuns && performance.now() - start > opts.budgetMs) break;
  }
  return summarize(times);
}

/** timeIt for asynchronous work (onnxruntime sessions): each call is awaited before the next. */
export async function timeItAsync(fn: () => Promise<unknown>, opts: TimingOptions = {}): Promise<Timing> {
  const warmup = opts.warmup ?? 2, runs = opts.runs ?? 7, minRuns = opts.minRuns ?? 3;
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  const start = performance.now();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
    if (opts.budgetMs !== undefined && times.length >= minRuns && performance.now() - start > opts.budgetMs) break;
  }
  return summarize(times);
}

function summarize(times: number[]): Timing {
  return { medianMs: median(times), minMs: Math.min(...times), runs: times.length, runsMs: times };
}
