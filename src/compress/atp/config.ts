// ATP configuration. research/atp-llava-and-peers.md part A is a reconstruction (the paper's full
// text and code were not available); every choice below that the sources leave open is marked [G].

export interface AtpConfig {
  /** Decoder layers (0-based) after which an ATP module prunes. The paper's 7B model: {4, 14, 24} of 32 [R]. */
  layers: number[];
  /** Soft-mask temperature T in sigmoid((S - theta) T) (re-implementation: 10) [R]. */
  temperature: number;
  /** SAP: nested uniform grids with these strides; a token's spatial score is 1 - lambda * R_s of the
   * sparsest grid it lies on (R_s = 1/stride^2), so theta_s picks how dense a skeleton survives [G]. */
  sapStrides: number[];
  /** SAP scaling coefficient lambda_sample (re-implementation: 3.0) [R]. */
  lambdaSample: number;
  /** Score vectors are average-pooled to this many values for the threshold MLP's input [R variant b]. */
  pool: number;
  /** What the threshold MLP reads: "position", the score vectors pooled in token order (where the
   * attention falls) [R variant b]; "sorted", a vlmc option, pooled after sorting each vector in
   * descending order (how many tokens stand out, wherever they are), so a threshold can follow the
   * number of peaks, e.g. the objects a count question needs. */
  scoreInput: "position" | "sorted";
  hidden: number;
  /** Ablations: drop the spatial criterion, or one half of the redundancy score. */
  useSap: boolean;
  useSelf: boolean;
  useCross: boolean;
  /** Budget: target average kept fraction of vision tokens over all layers, and the loss weights
   * (paper, via the re-implementation: lambda_atp 0.05, lambda_target 0.2) [R]. */
  targetFraction: number;
  lambdaAtp: number;
  lambdaTarget: number;
  /** How the budget pulls the average kept fraction to targetFraction. "l1": lambdaTarget * |mean - target|,
   * the paper's term via the re-implementation: a constant force, so where the budget lands is set by its
   * balance with the answer loss, not by the target. "dual": a vlmc option, the budget as a constraint
   * mean = target with a Lagrange multiplier (dual ascent: multiplier += dualLr * (mean - target)), which
   * grows while the mean is above the target and turns negative (paying for tokens) while it is below,
   * so the target means its value. An equality, not "at most": a budget left unspent is accuracy lost.
   * The multiplier is clipped to [-dualClip, dualClip] (anti-wind-up): the thresholds move at the
   * optimizer's pace whatever the force, so an unclipped multiplier keeps growing while they catch up
   * and then overshoots the target (measured: 0.20 -> 0.31 -> 0.24 in 800 steps). 0 = no clip. */
  targetLoss: "l1" | "dual";
  dualLr: number;
  dualClip: number;
  /** Training: forward with the hard keep/prune decisions (0/1 masks, scores over surviving tokens only,
   * exactly what inference runs) and backward through the soft masks (straight-through). A vlmc option:
   * the soft masks alone leak pruned tokens into training that inference never sees. */
  straightThrough: boolean;
  /** Merge instead of drop (a vlmc option, compress/merge.ts): each pruned token is counted into its most
   * similar kept token and later layers add log(size) to that key's logits. Needs straightThrough to train. */
  merge: boolean;
  /** With merge: also replace each kept token's state by its group's size-weighted average (ToMe's merge). */
  mergeStates: boolean;
  /** With merge: a pruned token joins only kept tokens within this many grid cells (Chebyshev), else it is
   * dropped; 0 = any kept token (ToMe: by similarity alone). */
  mergeRadius: number;
  /** Question-aware thresholds (a vlmc option): the threshold MLP also reads the last prompt token's hidden
   * state after the ATP layer (RMS-normalised, no gradient into the LLM), so a budget can follow the
   * question (a count question may keep more than a colour question). The model's hidden size; 0 = off. */
  questionDim: number;
}

export const ATP_DEFAULTS: AtpConfig = {
  layers: [0, 2, 4],
  temperature: 10,
  sapStrides: [2, 4],
  lambdaSample: 3,
  pool: 16,
  scoreInput: "position",
  hidden: 64,
  useSap: true,
  useSelf: true,
  useCross: true,
  targetFraction: 0.25,
  lambdaAtp: 0.05,
  lambdaTarget: 0.2,
  targetLoss: "l1",
  dualLr: 1,
  dualClip: 0,
  straightThrough: false,
  merge: false,
  mergeStates: false,
  mergeRadius: 0,
  questionDim: 0,
};

/** SAP spatial score of grid cell (r, c): 1 - lambda / stride^2 for the sparsest grid containing it, else -inf. */
export function sapScore(r: number, c: number, cfg: AtpConfig): number {
  let best = -Infinity;
  for (const s of cfg.sapStrides) {
    // grid cells at odd offsets inside each stride x stride block: centred, like pooling's centres [G]
    const off = Math.floor((s - 1) / 2);
    if (r % s === off && c % s === off) best = Math.max(best, 1 - cfg.lambdaSample / (s * s));
  }
  return best;
}
