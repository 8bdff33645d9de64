// A tiny VLM trained for a few steps into a fresh temporary folder, loaded back: the model most
// evaluation and method tests run on.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadVlmDir, type LoadedVlm } from "../../src/train/model-dir.js";
import { runRecipe } from "../../src/train/run.js";

export async function trainTinyVlm(overrides: Record<string, unknown> = {}): Promise<LoadedVlm & { dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "vlmc-tiny-"));
  await runRecipe({ recipe: "vlm", out: dir, overrides: { preset: "tiny", steps: 3, batch_size: 2, eval_every: 0, ...overrides }, quiet: true, log: () => {} });
  return { ...loadVlmDir(dir), dir };
}
