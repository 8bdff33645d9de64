// `vlmc bench prune` end to end on tiny models: one entry per method with its cost figures, the
// timing rounds filled in for every entry (the full model the 1.00x reference), and the FLOPs cut
// counted both ways (pruning before the deciding layer's MLP saves more, never less; merging, which
// reads the dropped tokens' states, drops between layers, so both counts agree).
import { mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatPruneTable, runPruneBench, shuffled } from "../../bench/prune.js";
import { Rng } from "../../src/tensor/random.js";
import { runRecipe } from "../../src/train/run.js";

const quiet = { quiet: true, log: () => {} };

describe("bench prune", () => {
  it("reports every method with interleaved prefill timings and both FLOPs accountings", async () => {
    const models = mkdtempSync(join(tmpdir(), "vlmc-prune-bench-"));
    const full = join(models, "full");
    await runRecipe({ recipe: "vlm", out: full, overrides: { preset: "tiny", steps: 2, batch_size: 2, eval_every: 0 }, ...quiet });
    await runRecipe({ recipe: "atp", out: join(models, "atp-30"), overrides: { preset: "tiny", steps: 1, batch_size: 2, eval_every: 0, init: full, atp_layers: "0" }, ...quiet });
    symlinkSync(join(models, "atp-30"), join(models, "atp-30-nosap")); // an ablation's name: no baselines of its own
    // no extra targets: the baselines run once, at the budgeted ATP model's own kept fraction
    const r = runPruneBench({ models, n: 2, targets: [], log: () => {} });
    expect(r.entries.map((e) => e.method)).toEqual(["full", "ATP", "ATP", "FastV", "FastV+merge", "PyramidDrop"]);
    expect(r.entries.map((e) => e.setting).slice(1, 3)).toEqual(["atp-30", "atp-30-nosap"]);
    expect(r.entries[0].prefill_speedup).toBe(1);
    expect(r.entries[0].llm_prefill_speedup).toBe(1);
    for (const e of r.entries) {
      expect(e.prefill_ms, e.method).toBeGreaterThan(0);
      expect(e.llm_prefill_ms, e.method).toBeGreaterThan(0);
      expect(e.llm_prefill_ms, e.method).toBeLessThanOrEqual(e.prefill_ms); // the decoder is part of the prefill, round by round
      expect(Number.isFinite(e.prefill_speedup) && Number.isFinite(e.llm_prefill_speedup), e.method).toBe(true);
      expect(e.flops_reduction, e.method).toBeGreaterThanOrEqual(e.flops_reduction_between_layers - 1e-12);
    }
    // the full model against itself: no noise (a relative figure, undefined if the tiny model answers nothing right)
    expect(r.entries[0].relative_accuracy_loss_se).toBe(r.entries[0].accuracy > 0 ? 0 : NaN);
    for (const e of r.entries) expect(typeof e.relative_accuracy_loss_se, e.method).toBe("number");
    const by = (m: string) => r.entries.find((e) => e.method === m)!;
    expect(by("FastV").flops_reduction).toBeGreaterThan(by("FastV").flops_reduction_between_layers);
    expect(by("FastV+merge").flops_reduction).toBeCloseTo(by("FastV+merge").flops_reduction_between_layers, 12);
    expect(by("ATP").kept_by_type).toBeDefined();
    expect(formatPruneTable(r)).toContain("LLM speed-up");
  }, 120_000);

  it("times the methods in a fresh order each round, so none always follows the full model", () => {
    const rng = new Rng(1), after0 = new Set<number>();
    for (let round = 0; round < 60; round++) {
      const order = shuffled(5, rng);
      expect([...order].sort()).toEqual([0, 1, 2, 3, 4]);
      const at = order.indexOf(0);
      if (at < 4) after0.add(order[at + 1]);
    }
    expect(after0).toEqual(new Set([1, 2, 3, 4]));
  });
});
