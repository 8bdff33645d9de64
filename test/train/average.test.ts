// `vlmc average`: every weight of the averaged folder (model and ATP modules) is the mean of the
// sources' weights, computed here by hand; folders of different models, a folder listed twice and an
// output over a source are refused with the offending folder named.
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { averageVlmDirs } from "../../src/train/average.js";
import { exportVlmDir } from "../../src/train/export.js";
import { loadVlmDir } from "../../src/train/model-dir.js";
import { runRecipe } from "../../src/train/run.js";
import { loadSafetensorsFile } from "../../src/model/safetensors.js";

const tmp = () => mkdtempSync(join(tmpdir(), "vlmc-average-"));
const quiet = { quiet: true, log: () => {} };

describe("average", () => {
  it("writes the element-wise mean of the models and their ATP modules, refusing folders of other models", async () => {
    const base = tmp();
    await runRecipe({ recipe: "vlm", out: base, overrides: { preset: "tiny", steps: 2, batch_size: 2, eval_every: 0 }, ...quiet });
    const atp = [tmp(), tmp(), tmp()];
    for (const [i, dir] of atp.entries()) {
      await runRecipe({ recipe: "atp", out: dir, overrides: { preset: "tiny", steps: 2, batch_size: 2, eval_every: 0, init: base, atp_layers: "0", data_seed: 10 + i, atp_target: 0.3 + 0.1 * i }, ...quiet });
    }
    const out = tmp();
    const r = averageVlmDirs(atp, out, "F32");
    expect(r.files.some((f) => f.endsWith("atp.safetensors"))).toBe(true);
    const sources = atp.map((d) => loadVlmDir(d).model.stateDict());
    const mean = loadVlmDir(out);
    let differing = 0;
    for (const [name, t] of mean.model.stateDict()) {
      const [a, b, c] = sources.map((s) => s.get(name)!.data);
      for (let i = 0; i < t.data.length; i += 5) {
        expect(t.data[i]).toBe(Math.fround((a[i] + b[i] + c[i]) / 3));
        if (a[i] !== b[i]) differing++;
      }
    }
    expect(differing).toBeGreaterThan(0); // the sources really differ, so the mean is not one of them
    const atpSources = atp.map((d) => loadSafetensorsFile(join(d, "atp.safetensors")).tensors);
    for (const [name, t] of loadSafetensorsFile(join(out, "atp.safetensors")).tensors) {
      const [a, b, c] = atpSources.map((s) => s.get(name)!.data);
      for (let i = 0; i < t.data.length; i++) expect(t.data[i]).toBe(Math.fround((a[i] + b[i] + c[i]) / 3));
    }
    expect(mean.info.averaged_from).toHaveLength(3);
    expect(mean.info.atp).toEqual(loadVlmDir(atp[0]).info.atp);

    // a bf16 export of a source averages with f32 sources: it is the same model
    const half = tmp();
    exportVlmDir(atp[1], half, "BF16", { exported_from: "test" });
    const mixed = tmp();
    averageVlmDirs([half, atp[0]], mixed, "BF16");
    expect(loadVlmDir(mixed).info.exported_from).toBeUndefined(); // not the first source's provenance

    const noModules = tmp();
    exportVlmDir(atp[2], noModules, "F32");
    rmSync(join(noModules, "atp.safetensors"));
    expect(() => averageVlmDirs([atp[0], noModules], tmp(), "F32")).toThrow(new RegExp(`${noModules}: lacks atp.safetensors`));
    expect(() => averageVlmDirs([atp[0]], tmp(), "F32")).toThrow(/at least two/);
    expect(() => averageVlmDirs([atp[0], atp[0]], tmp(), "F32")).toThrow(/listed twice/);
    expect(() => averageVlmDirs([atp[0], atp[1]], atp[1], "F32")).toThrow(/other than the ones averaged/);
    // a symlink is the folder it names: counted twice, or an output over a source, all the same
    const link = join(tmp(), "link");
    symlinkSync(atp[1], link);
    expect(() => averageVlmDirs([atp[0], atp[1], link], tmp(), "F32")).toThrow(/listed twice/);
    expect(() => averageVlmDirs([atp[0], atp[1]], link, "F32")).toThrow(/other than the ones averaged/);
    expect(() => averageVlmDirs([atp[0], base], tmp(), "F32")).toThrow(new RegExp(`${base}: vlmc.recipe`));
    const otherLayers = tmp();
    await runRecipe({ recipe: "atp", out: otherLayers, overrides: { preset: "tiny", steps: 1, batch_size: 2, eval_every: 0, init: base, atp_layers: "0", atp_sap_strides: "2" }, ...quiet });
    expect(() => averageVlmDirs([atp[0], otherLayers], tmp(), "F32")).toThrow(/vlmc.atp.sapStrides/);
    const wider = JSON.parse(readFileSync(join(half, "config.json"), "utf8")) as Record<string, unknown>;
    wider.rope_theta = 500000;
    writeFileSync(join(half, "config.json"), JSON.stringify(wider));
    expect(() => averageVlmDirs([atp[0], half], tmp(), "F32")).toThrow(/"rope_theta"/);
  });
});
