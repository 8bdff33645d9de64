// Saving and loading a `Vocab` as a JSON file (Node only; vocab.ts itself stays browser-portable).
// Not here: building the vocabulary or tokenising (vocab.ts).

import { readFileSync, writeFileSync } from "node:fs";
import { Vocab } from "./vocab.js";

export function saveVocab(path: string, vocab: Vocab): void {
  writeFileSync(path, JSON.stringify(vocab.toJSON(), null, 1) + "\n");
}

export function loadVocab(path: string): Vocab {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`${path}: cannot read vocab (${(e as Error).message})`);
  }
  try {
    return Vocab.fromJSON(json);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}
