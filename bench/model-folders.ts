// Reading a folder of trained models while a suite may still be writing it.
import { unfinishedReason } from "../src/train/trainer.js";

/** A model still training (a suite running beside the bench) is left out, and said so. */
export function skipUnfinished(dir: string, name: string, log: (l: string) => void): boolean {
  const why = unfinishedReason(dir);
  if (why !== "") log(`${name}: ${why}`);
  return why !== "";
}
