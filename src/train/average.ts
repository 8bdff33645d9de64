// Uniform weight averages of model folders, a "model soup" (Wortsman et al., 2022): fine-tunes of one
// base on different data seeds, averaged weight by weight, answer better than each of them at the same
// inference cost. A vlmc option beyond both papers (session 23: four ATP fine-tunes averaged lose 0.1%
// against the full model where each alone loses 1.8-3.3%). The folders must be the same model: same
// architecture, tokenizer and method, and, for ATP, the same modules (the training-only budget
// settings may differ; the first folder's are recorded).
import { existsSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { AtpConfig } from "../compress/atp/config.js";
import { loadSafetensorsFile, type WriteDtype } from "../model/safetensors.js";
import { Tensor } from "../tensor/tensor.js";
import { ATP_FILE } from "./atp-files.js";
import { COPIED_FILES, placeOf, writeModelFolder, type ExportResult } from "./export.js";
import { loadVlmDir, methodOf, type LoadedVlm } from "./model-dir.js";

/** `vlmc` fields that change what the model computes; the rest (budget, loss weights) only shaped training. */
const METHOD_FIELDS = ["vocoTokens", "vocoMask", "poolTokens", "video"] as const;
const ATP_INFERENCE_FIELDS: (keyof AtpConfig)[] = ["layers", "sapStrides", "lambdaSample", "pool", "scoreInput", "hidden",
  "useSap", "useSelf", "useCross", "merge", "mergeStates", "mergeRadius", "questionDim"];

export function averageVlmDirs(srcs: readonly string[], dst: string, dtype: WriteDtype): ExportResult {
  if (srcs.length < 2) throw new Error(`averaging needs at least two model folders, got ${srcs.length}`);
  const seen = new Set<string>();
  for (const s of srcs) {
    if (seen.has(placeOf(s))) throw new Error(`${s}: listed twice (a folder counted twice would weigh double)`);
    seen.add(placeOf(s));
  }
  if (seen.has(placeOf(dst))) throw new Error(`${dst}: the output must be a folder other than the ones averaged`);
  const loaded = srcs.map((s) => loadVlmDir(s)); // validates every folder before anything is written
  for (let i = 1; i < srcs.length; i++) checkSameModel(srcs[0], loaded[0], srcs[i], loaded[i]);
  const weights = meanOf(srcs.map((s, i) => [s, loaded[i].model.stateDict()] as const), "model.safetensors");
  const hasAtp = srcs.map((s) => existsSync(join(s, ATP_FILE)));
  const odd = srcs.find((_, i) => hasAtp[i] !== hasAtp[0]);
  if (odd !== undefined) throw new Error(`${odd}: ${hasAtp[0] ? "lacks" : "has"} ${ATP_FILE}, unlike ${srcs[0]}`);
  const atp = hasAtp[0] ? meanOf(srcs.map((s) => [s, loadSafetensorsFile(join(s, ATP_FILE)).tensors] as const), ATP_FILE) : null;
  // the first folder's provenance would describe one source only: replaced by the list of all
  const provenance = { averaged_from: srcs.map((s) => basename(resolve(s))), exported_from: undefined };
  return writeModelFolder(srcs[0], dst, dtype, weights, atp, provenance);
}

function checkSameModel(refDir: string, ref: LoadedVlm, dir: string, other: LoadedVlm): void {
  const differ = (what: string, a: unknown, b: unknown) =>
    new Error(`${dir}: ${what} is ${JSON.stringify(b)} where ${refDir} has ${JSON.stringify(a)}: only folders of one model can be averaged`);
  const archA = readConfig(refDir), archB = readConfig(dir);
  for (const key of new Set([...Object.keys(archA), ...Object.keys(archB)])) {
    if (key === "vlmc") continue;
    if (JSON.stringify(archA[key]) !== JSON.stringify(archB[key])) throw differ(`config.json "${key}"`, archA[key], archB[key]);
  }
  if (ref.info.recipe !== other.info.recipe) throw differ("vlmc.recipe", ref.info.recipe, other.info.recipe);
  const mA = methodOf(ref.info), mB = methodOf(other.info); // defaults filled in: older folders omit newer fields
  for (const f of METHOD_FIELDS) if (mA[f] !== mB[f]) throw differ(`the method's ${f}`, mA[f], mB[f]);
  if ((mA.atp === null) !== (mB.atp === null)) throw differ("vlmc.atp", mA.atp, mB.atp);
  if (mA.atp !== null && mB.atp !== null) {
    for (const f of ATP_INFERENCE_FIELDS) {
      if (JSON.stringify(mA.atp[f]) !== JSON.stringify(mB.atp[f])) throw differ(`vlmc.atp.${f}`, mA.atp[f], mB.atp[f]);
    }
  }
  for (const f of COPIED_FILES) {
    const a = readIfThere(join(refDir, f)), b = readIfThere(join(dir, f));
    if (a !== b) throw new Error(`${dir}: ${f} differs from ${refDir}'s: only folders of one model can be averaged`);
  }
}

/** Element-wise mean in float64, every folder holding the same names and shapes. */
function meanOf(sets: readonly (readonly [string, ReadonlyMap<string, Tensor>])[], file: string): Map<string, Tensor> {
  const [refDir, ref] = sets[0];
  const out = new Map<string, Tensor>();
  for (const [name, t] of ref) {
    const sum = new Float64Array(t.size);
    for (const [dir, tensors] of sets) {
      const u = tensors.get(name);
      if (u === undefined) throw new Error(`${join(dir, file)}: no tensor "${name}" (${refDir} has it)`);
      if (u.shape.join() !== t.shape.join()) throw new Error(`${join(dir, file)}: "${name}" has shape (${u.shape.join(", ")}) where ${refDir} has (${t.shape.join(", ")})`);
      for (let i = 0; i < sum.length; i++) sum[i] += u.data[i];
    }
    out.set(name, new Tensor(Float32Array.from(sum, (x) => x / sets.length), [...t.shape]));
  }
  for (const [dir, tensors] of sets) {
    const extra = [...tensors.keys()].filter((k) => !ref.has(k));
    if (extra.length > 0) throw new Error(`${join(dir, file)}: tensors ${extra.slice(0, 3).map((k) => `"${k}"`).join(", ")} not in ${refDir}`);
  }
  return out;
}

function readConfig(dir: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
}

function readIfThere(path: string): string | null {
  return existsSync(path) ? readFileSync(path, "utf8") : null;
}
