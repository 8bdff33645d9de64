// ATP modules beside a model folder's LLaVA weights: atp.safetensors (names layers.K.fc.weight ...),
// with the ATP configuration recorded in config.json's "vlmc" block.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { AtpConfig } from "../compress/atp/config.js";
import { AtpModules } from "../compress/atp/module.js";
import { loadSafetensorsFile, saveSafetensorsFile } from "../model/safetensors.js";
import { Rng } from "../tensor/random.js";

export const ATP_FILE = "atp.safetensors";

export function saveAtpModules(dir: string, atp: AtpModules): void {
  saveSafetensorsFile(join(dir, ATP_FILE), atp.stateDict(), { metadata: { format: "vlmc-atp" } });
}

/** The folder's ATP modules if it has them, else fresh ones (seeded). */
export function loadAtpModules(dir: string, cfg: AtpConfig, seed: number): AtpModules {
  const atp = new AtpModules(cfg, new Rng(seed + 17));
  const path = join(dir, ATP_FILE);
  if (dir !== "" && existsSync(path)) {
    try {
      atp.loadStateDict(loadSafetensorsFile(path).tensors);
    } catch (e) {
      throw new Error(`${path}: ${(e as Error).message}`);
    }
  }
  return atp;
}
