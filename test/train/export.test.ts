// `vlmc export`: the compact copy holds the same model in bf16 (every weight equal to its bf16
// rounding, computed here by hand), keeps tokenizer and ATP modules, drops the training state, and
// refuses to overwrite its source.
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { exportVlmDir } from "../../src/train/export.js";
import { loadVlmDir } from "../../src/train/model-dir.js";
import { runRecipe } from "../../src/train/run.js";
import { loadSafetensorsFile } from "../../src/model/safetensors.js";

const tmp = () => mkdtempSync(join(tmpdir(), "vlmc-export-"));
const quiet = { quiet: true, log: () => {} };

/** Round-to-nearest-even to bfloat16, by hand on the float32 bits. */
function bf16(x: number): number {
  const f = new Float32Array([x]), u = new Uint32Array(f.buffer);
  const lsb = (u[0] >>> 16) & 1;
  u[0] = ((u[0] + 0x7fff + lsb) >>> 16) << 16;
  return f[0];
}

describe("export", () => {
  it("writes a bf16 copy without training state that loads with the same config and ATP modules", async () => {
    const base = tmp();
    await runRecipe({ recipe: "vlm", out: base, overrides: { preset: "tiny", steps: 2, batch_size: 2, eval_every: 0 }, ...quiet });
    const atpDir = tmp();
    await runRecipe({ recipe: "atp", out: atpDir, overrides: { preset: "tiny", steps: 1, batch_size: 2, eval_every: 0, init: base, atp_layers: "0" }, ...quiet });
    expect(existsSync(join(atpDir, "optimizer.safetensors"))).toBe(true);
    const out = tmp();
    const r = exportVlmDir(atpDir, out, "BF16", { exported_from: "test" });
    expect(existsSync(join(out, "optimizer.safetensors"))).toBe(false);
    expect(existsSync(join(out, "atp.safetensors"))).toBe(true);
    expect(r.files.some((f) => f.endsWith("tokenizer.json"))).toBe(true);
    const a = loadVlmDir(atpDir), b = loadVlmDir(out);
    expect(b.config).toEqual(a.config);
    expect(b.info.stored).toBe("bf16");
    expect(b.info.atp).toEqual(a.info.atp);
    const wa = new Map(a.model.stateDict()), wb = new Map(b.model.stateDict());
    for (const [name, t] of wa) {
      const u = wb.get(name)!;
      for (let i = 0; i < t.data.length; i += 7) expect(u.data[i]).toBe(bf16(t.data[i]));
    }
    const { dtypes } = loadSafetensorsFile(join(out, "model.safetensors"));
    expect(new Set(dtypes.values())).toEqual(new Set(["BF16"]));
    expect(() => exportVlmDir(out, out, "BF16")).toThrow(/different folder/);
    const link = join(tmp(), "link");
    symlinkSync(out, link);
    expect(() => exportVlmDir(out, link, "BF16")).toThrow(/different folder/); // a link to the source is the source
    expect(() => exportVlmDir(join(out, "nope"), tmp(), "BF16")).toThrow(/model folder not found/);

    // a copy written over a previous one keeps none of its files: the plain model's copy has no ATP
    // modules, and no tokenizer file its source lacks; a file of another name stays
    writeFileSync(join(out, "special_tokens_map.json"), "{}");
    writeFileSync(join(out, "notes.txt"), "mine");
    const before = readFileSync(join(base, "model.safetensors"));
    exportVlmDir(base, out, "F32");
    expect(existsSync(join(out, "atp.safetensors"))).toBe(false);
    expect(existsSync(join(out, "special_tokens_map.json"))).toBe(existsSync(join(base, "special_tokens_map.json")));
    expect(readFileSync(join(out, "notes.txt"), "utf8")).toBe("mine");
    expect(loadVlmDir(out).info.atp).toBeUndefined();
    // a training run is never written over: its weights stay as they were
    expect(() => exportVlmDir(out, base, "BF16")).toThrow(/holds a training run \(trainer_state\.json\)/);
    expect(readFileSync(join(base, "model.safetensors")).equals(before)).toBe(true);
  });
});
