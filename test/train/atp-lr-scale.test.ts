// atp_lr_scale: the ATP threshold MLPs take a step atp_lr_scale times as large, everything else the same.
// Adam's first step is linear in the rate (with decoupled decay too), so from one start and one batch
// w(scale) - w(1) = (scale - 1) * (w(2) - w(1)) exactly, up to float32 rounding, for every ATP weight.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSafetensorsFile } from "../../src/model/safetensors.js";
import { runRecipe } from "../../src/train/run.js";

const tmp = () => mkdtempSync(join(tmpdir(), "vlmc-atp-lr-"));
const quiet = { quiet: true, log: () => {} };

describe("atp_lr_scale", () => {
  it("scales the ATP modules' first step by its value and leaves the VLM's step unchanged", async () => {
    const base = tmp();
    await runRecipe({ recipe: "vlm", out: base, overrides: { preset: "tiny", steps: 2, batch_size: 2, eval_every: 0 }, ...quiet });
    const step = async (scale: number) => {
      const out = tmp();
      await runRecipe({ recipe: "atp", out, overrides: { preset: "tiny", steps: 1, batch_size: 2, eval_every: 0, init: base, atp_layers: "0",
        lr: 1e-2, min_lr: 1e-2, warmup: 0, atp_lr_scale: scale }, ...quiet });
      return { atp: loadSafetensorsFile(join(out, "atp.safetensors")).tensors, vlm: loadSafetensorsFile(join(out, "model.safetensors")).tensors };
    };
    const [s1, s2, s10] = [await step(1), await step(2), await step(10)];
    let moved = 0;
    for (const [name, t1] of s1.atp) {
      const t2 = s2.atp.get(name)!, t10 = s10.atp.get(name)!;
      for (let i = 0; i < t1.data.length; i++) {
        const d = t2.data[i] - t1.data[i];
        expect(t10.data[i] - t1.data[i]).toBeCloseTo(9 * d, 5);
        if (Math.abs(d) > 1e-4) moved++;
      }
    }
    expect(moved).toBeGreaterThan(10); // the ATP weights did take a step
    for (const [name, t1] of s1.vlm) expect(Array.from(s10.vlm.get(name)!.data)).toEqual(Array.from(t1.data));
  });

  it("refuses a multiplier that is not positive", async () => {
    await expect(runRecipe({ recipe: "atp", out: tmp(), overrides: { preset: "tiny", steps: 1, batch_size: 2, eval_every: 0, atp_lr_scale: 0 }, ...quiet }))
      .rejects.toThrow(/atp_lr_scale must be > 0, got 0/);
  });
});
