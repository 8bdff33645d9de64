// Compact copies of model folders for shipping: the weights in f16/bf16, the training state
// (optimizer.safetensors, trainer_state.json) left behind, ATP modules carried along, and a note of
// where the copy came from in config.json's `vlmc` block. The copy loads like the original.
import { copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { CONFIG_FILE, INDEX_FILE, loadSafetensorsFile, saveSafetensorsFile, SINGLE_FILE, type WriteDtype } from "../model/safetensors.js";
import type { Tensor } from "../tensor/tensor.js";
import { loadVlmDir } from "./model-dir.js";
import { ATP_FILE } from "./atp-files.js";
import { OPTIMIZER_FILE, STATE_FILE } from "./trainer.js";

export const COPIED_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"];

export interface ExportResult {
  files: string[];
  bytes: number;
}

export function exportVlmDir(src: string, dst: string, dtype: WriteDtype, extraInfo: Record<string, unknown> = {}): ExportResult {
  if (placeOf(src) === placeOf(dst)) throw new Error(`${dst}: export needs a different folder from its source`);
  const loaded = loadVlmDir(src); // validates config, tokenizer and weights before anything is written
  const atp = join(src, ATP_FILE);
  const atpTensors = existsSync(atp) ? loadSafetensorsFile(atp).tensors : null;
  return writeModelFolder(src, dst, dtype, loaded.model.stateDict(), atpTensors, extraInfo);
}

/** Writes weights (and ATP modules) with `src`'s config, its `vlmc` block extended, and its tokenizer files. */
export function writeModelFolder(src: string, dst: string, dtype: WriteDtype, weights: ReadonlyMap<string, Tensor>,
  atp: ReadonlyMap<string, Tensor> | null, extraInfo: Record<string, unknown>): ExportResult {
  clearOutput(dst);
  const files: string[] = [];
  const model = join(dst, "model.safetensors");
  saveSafetensorsFile(model, [...weights], { dtype, metadata: { format: "pt" } });
  files.push(model);
  if (atp !== null) {
    saveSafetensorsFile(join(dst, ATP_FILE), [...atp], { dtype, metadata: { format: "vlmc-atp" } });
    files.push(join(dst, ATP_FILE));
  }
  const config = JSON.parse(readFileSync(join(src, "config.json"), "utf8")) as Record<string, unknown>;
  const info = (config.vlmc ?? {}) as Record<string, unknown>;
  config.vlmc = { ...info, stored: dtype.toLowerCase(), ...extraInfo };
  writeFileSync(join(dst, "config.json"), JSON.stringify(config, null, 2) + "\n");
  files.push(join(dst, "config.json"));
  for (const f of COPIED_FILES) {
    if (!existsSync(join(src, f))) continue;
    copyFileSync(join(src, f), join(dst, f));
    files.push(join(dst, f));
  }
  const bytes = files.reduce((s, f) => s + statSync(f).size, 0);
  return { files, bytes };
}

/** The folder a path names, symlinks followed where it exists (a link to a source is that source). */
export function placeOf(p: string): string {
  return existsSync(p) ? realpathSync(p) : resolve(p);
}

/**
 * Makes dst ready for a model folder. A training run is refused (its f32 weights would be lost, and a
 * later --resume would pair the copy's weights with the run's optimizer state); a previous copy's files
 * are removed first, so none of them outlives this write (an ATP file or a tokenizer file the new
 * source lacks would otherwise be loaded with it). Files of other names are left alone.
 */
function clearOutput(dst: string): void {
  for (const f of [STATE_FILE, OPTIMIZER_FILE]) {
    if (existsSync(join(dst, f))) throw new Error(`${dst}: holds a training run (${f}); write the copy to another folder`);
  }
  mkdirSync(dst, { recursive: true });
  for (const f of [SINGLE_FILE, INDEX_FILE, ATP_FILE, CONFIG_FILE, ...COPIED_FILES]) rmSync(join(dst, f), { force: true });
}
