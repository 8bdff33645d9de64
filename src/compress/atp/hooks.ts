// ATP-LLaVA at work inside the decoder (research/atp-llava-and-peers.md A.2-A.5). After each ATP
// layer: every alive vision token gets a redundancy score S_r (the mean of the attention it
// receives from vision queries and from the prompt's text queries, each min-max normalised per
// instance [G]) and a spatial score S_s (SAP); the module's MLP predicts theta_r and theta_s for the
// instance; a token survives if S_r > theta_r or S_s > theta_s.
//   soft (training): nothing is removed; D = max(sigmoid((S_r - theta_r) T), sigmoid((S_s - theta_s) T)),
//     multiplied across ATP layers, enters every later layer's attention as a log-bias on that key
//     (each token keeps its self-loop, DynamicViT-style) [R]; the budget loss reads the soft counts.
//   hard (inference): pruned tokens are dropped (the model gathers survivors, keeps their original
//     positions, and later layers never compute or cache their K/V).
//   straight-through (cfg.straightThrough, a vlmc option): training runs the hard decisions forward
//     (pruned: D = 0, later ATP layers score the survivors only) and the soft D's gradient backward.
//   merge (cfg.merge, a vlmc option): pruned tokens are counted into kept ones (compress/merge.ts), in
//     both the hard forward and straight-through training; cfg.mergeStates also averages their states,
//     cfg.mergeRadius keeps merges between grid neighbours.
// S_self averages over the vision queries that can see the token (causal attention would otherwise
// favour early tokens) [G]; S_cross uses the prompt's text after the image, never answer tokens.
import type { TokenLayout } from "../../model/layout.js";
import type { VlmBatch, VlmHooks } from "../../model/vlm.js";
import { abs, add, addScalar, log, maximum, mul, scale, sigmoid, sub, where } from "../../tensor/ops/elementwise.js";
import { noGrad } from "../../tensor/autograd.js";
import { gatherRows } from "../../tensor/ops/gather.js";
import { rmsNorm } from "../../tensor/ops/norm.js";
import { IGNORE_INDEX } from "../../tensor/ops/loss.js";
import { sum } from "../../tensor/ops/reduce.js";
import { reshape } from "../../tensor/ops/shape.js";
import { Tensor } from "../../tensor/tensor.js";
import { keepMask, receivedAttention, textAfterVision, visionSlots } from "../common.js";
import { MergedSizes } from "../merge.js";
import { sapScore, type AtpConfig } from "./config.js";
import { poolTo, type AtpModules } from "./module.js";

const NEVER = -10; // a spatial score no threshold in (0, 1) passes, still finite inside the sigmoid

function minMax(v: Float64Array): Float64Array {
  let lo = Infinity, hi = -Infinity;
  for (const x of v) { lo = Math.min(lo, x); hi = Math.max(hi, x); }
  return hi > lo ? v.map((x) => (x - lo) / (hi - lo)) : v.map(() => 0.5);
}

interface RowScores { slots: number[]; sr: Float64Array; ss: Float64Array; input: Float32Array }

export class AtpHooks implements VlmHooks {
  #batch: VlmBatch | null = null;
  #promptEnd: Int32Array = new Int32Array(0);
  #dcum: { layer: number; d: Tensor; bias?: Tensor } | null = null;
  /** Soft kept fraction (B) after each ATP layer, in order (training). */
  readonly softFractions: Tensor[] = [];
  /** Vision tokens alive per row after each ATP layer (hard mode), for reports. */
  readonly kept: Int32Array[] = [];
  /** Patch indices kept per row after each ATP layer (hard mode), for visualisation. */
  readonly keptPatches: number[][][] = [];
  readonly #sizes = new MergedSizes();

  /** grid: patches per side of the image grid; numLayers: decoder layers (for the budget); earlyDrop:
   * at inference, drop before the ATP layer's MLP (same output, fewer FLOPs; false: between layers). */
  constructor(readonly modules: AtpModules, readonly cfg: AtpConfig, readonly mode: "soft" | "hard", readonly numLayers: number, readonly grid: number,
    readonly earlyDrop = true) {}

  /** The decision reads attention only, unless tokens merge (their states) or the thresholds read the
   * question's state (after the MLP, as trained). */
  pruneBeforeMlp(l: number): boolean {
    return this.earlyDrop && this.mode === "hard" && !this.cfg.merge && this.cfg.questionDim === 0 && this.cfg.layers.includes(l);
  }

  prepare(batch: VlmBatch): void {
    this.#batch = batch;
    this.#dcum = null;
    this.softFractions.length = 0;
    this.kept.length = 0;
    this.keptPatches.length = 0;
    this.#sizes.reset();
    const L = batch.layout;
    // the prompt ends where the first answer token is predicted from (training), else at the row's end
    this.#promptEnd = Int32Array.from({ length: L.B }, (_, b) => {
      for (let t = 0; t < L.length[b]; t++) if (batch.targets[b * L.T + t] !== IGNORE_INDEX) return t;
      return L.length[b] - 1;
    });
  }

  wantsProbs(l: number): boolean {
    return this.cfg.layers.includes(l);
  }

  #scores(L: TokenLayout, b: number, probs: Tensor): RowScores {
    const batch = this.#batch!;
    const slots = this.#survivors(L, b);
    const promptEnd = this.#promptEnd[b];
    const cross = textAfterVision(L, b).filter((t) => L.orig[b * L.T + t] <= promptEnd);
    const self = this.cfg.useSelf ? minMax(receivedAttention(probs, L, b, slots, slots)) : new Float64Array(slots.length);
    const crs = this.cfg.useCross ? minMax(receivedAttention(probs, L, b, cross, slots)) : new Float64Array(slots.length);
    const parts = (this.cfg.useSelf ? 1 : 0) + (this.cfg.useCross ? 1 : 0);
    const sr = self.map((x, i) => (x + crs[i]) / Math.max(1, parts));
    const G = this.grid;
    const ss = Float64Array.from(slots, (t) => {
      if (!this.cfg.useSap) return NEVER;
      const p = batch.patch[b * batch.layout.T + L.orig[b * L.T + t]];
      const s = sapScore(Math.floor(p / G), p % G, this.cfg);
      return Number.isFinite(s) ? s : NEVER;
    });
    return { slots, sr, ss, input: thresholdInput(self, crs, this.cfg) };
  }

  /** Row b's vision slots still in play: all of them, except under straight-through training, where
   * a token an earlier ATP layer pruned is gone (its cumulative forward D is 0), as at inference. */
  #survivors(L: TokenLayout, b: number): number[] {
    const slots = visionSlots(L, b), dc = this.#dcum;
    if (this.mode !== "soft" || !this.cfg.straightThrough || dc === null) return slots;
    return slots.filter((t) => dc.d.data[b * L.T + t] > 0.5);
  }

  afterLayer(l: number, h: Tensor, L: TokenLayout, probs: Tensor | null): Uint8Array | null {
    const k = this.cfg.layers.indexOf(l);
    if (k < 0 || probs === null) return null;
    const rows = Array.from({ length: L.B }, (_, b) => this.#scores(L, b, probs));
    const x = new Tensor(new Float32Array(L.B * 2 * this.cfg.pool), [L.B, 2 * this.cfg.pool]);
    rows.forEach((r, b) => x.data.set(r.input, b * 2 * this.cfg.pool));
    const { thetaR, thetaS } = this.modules.layers[k].forward(x, this.cfg.questionDim > 0 ? this.#question(h, L) : undefined); // (B, 1) each
    const keptSlots = rows.map((r, b) => r.slots.filter((_, i) => survives(r, i, thetaR.data[b], thetaS.data[b])));
    if (this.cfg.merge) this.#sizes.absorb(h, L, keptSlots, rows.map((r) => r.slots), this.#near(L));
    if (this.mode === "hard") {
      this.kept.push(Int32Array.from(keptSlots, (s) => s.length));
      const batch = this.#batch!;
      this.keptPatches.push(keptSlots.map((slots, b) => slots.map((t) => batch.patch[b * batch.layout.T + L.orig[b * L.T + t]])));
      return keepMask(L, keptSlots);
    }
    this.#softStep(l, L, rows, thetaR, thetaS);
    return null;
  }

  #softStep(l: number, L: TokenLayout, rows: RowScores[], thetaR: Tensor, thetaS: Tensor): void {
    const n = L.B * L.T;
    const sr = new Float32Array(n), ss = new Float32Array(n).fill(NEVER), isVision = new Uint8Array(n);
    const rowOf = Int32Array.from({ length: n }, (_, i) => Math.floor(i / L.T));
    rows.forEach((r, b) => r.slots.forEach((t, i) => { const j = b * L.T + t; sr[j] = r.sr[i]; ss[j] = r.ss[i]; isVision[j] = 1; }));
    const T = this.cfg.temperature;
    const thR = reshape(gatherRows(thetaR, rowOf), [n]), thS = reshape(gatherRows(thetaS, rowOf), [n]);
    const dR = sigmoid(scale(sub(new Tensor(sr, [n]), thR), T));
    const dS = sigmoid(scale(sub(new Tensor(ss, [n]), thS), T));
    const soft = this.cfg.useSap ? maximum(dR, dS) : dR;
    const dVis = this.cfg.straightThrough ? straightThrough(soft, rows, L, thetaR, thetaS) : soft;
    const d = where(isVision, dVis, Tensor.full([n], 1));
    const dcum = this.#dcum === null ? d : mul(this.#dcum.d, d);
    this.#dcum = { layer: l, d: dcum };
    // soft kept fraction per row: sum of D over vision slots / number of vision slots
    const inv = new Float32Array(n);
    for (let b = 0; b < L.B; b++) {
      const all = visionSlots(L, b);
      for (const t of all) inv[b * L.T + t] = 1 / Math.max(1, all.length);
    }
    this.softFractions.push(sum(reshape(mul(dcum, new Tensor(inv, [n])), [L.B, L.T]), 1)); // (B)
  }

  /** Each row's last prompt token's state (B, C), RMS-normalised (the residual stream's scale grows with
   * depth), as a constant: the thresholds read the question, they do not train the LLM through it. */
  #question(h: Tensor, L: TokenLayout): Tensor {
    const C = h.shape[2];
    const slots = Int32Array.from({ length: L.B }, (_, b) => {
      let t = L.length[b] - 1;
      while (t > 0 && L.orig[b * L.T + t] > this.#promptEnd[b]) t--; // text slots are never pruned: orig finds it
      return b * L.T + t;
    });
    return noGrad(() => rmsNorm(gatherRows(reshape(h, [L.B * L.T, C]), slots), Tensor.full([C], 1), 1e-6));
  }

  /** With a merge radius: whether slots `from` and `to` of row b lie within it on the patch grid. */
  #near(L: TokenLayout): ((b: number, from: number, to: number) => boolean) | undefined {
    const r = this.cfg.mergeRadius, batch = this.#batch!, G = this.grid;
    if (r <= 0) return undefined;
    const patch = (b: number, t: number) => batch.patch[b * batch.layout.T + L.orig[b * L.T + t]];
    return (b, from, to) => {
      const p = patch(b, from), q = patch(b, to);
      return Math.max(Math.abs(Math.floor(p / G) - Math.floor(q / G)), Math.abs((p % G) - (q % G))) <= r;
    };
  }

  mixStates(l: number, h: Tensor, L: TokenLayout): Tensor | null {
    return this.cfg.mergeStates && this.cfg.layers.includes(l) ? this.#sizes.mix(h, L) : null;
  }

  keyBias(l: number, L: TokenLayout): Tensor | null {
    if (this.mode === "hard") return this.cfg.merge ? this.#sizes.bias(L) : null;
    const dc = this.#dcum;
    if (dc === null || dc.layer >= l) return null;
    // one bias serves every layer until the next ATP layer (autograd sums its gradients)
    if (dc.bias === undefined) {
      const T = L.T;
      const offDiag = new Float32Array(T * T).fill(1);
      for (let i = 0; i < T; i++) offDiag[i * T + i] = 0; // every token keeps its self-loop
      const logD = reshape(log(addScalar(dc.d, 1e-6)), [L.B, 1, T]);
      dc.bias = mul(logD, new Tensor(offDiag, [1, T, T])); // (B, T, T)
      const sizes = this.cfg.merge ? this.#sizes.bias(L) : null;
      if (sizes !== null) dc.bias = add(dc.bias, reshape(sizes, [L.B, 1, T])); // on every query, as at inference
    }
    return dc.bias;
  }

  /**
   * Budget loss (soft mode): lambda_atp * sum_k depth_k * fraction_k + lambda_target * |mean kept
   * fraction over all layers - target|, fractions averaged over the batch. depth_k = (layer+1)/layers.
   * With targetLoss "dual" the second term is multiplier * mean (the caller owns and updates the multiplier).
   */
  budgetLoss(multiplier = 0): { loss: Tensor; meanFraction: number } | null {
    if (this.softFractions.length === 0) return null;
    const cfg = this.cfg, nL = this.numLayers;
    const fr = this.softFractions.map((f) => scale(sum(f), 1 / f.size)); // batch means
    let atp: Tensor = Tensor.scalar(0);
    fr.forEach((f, k) => { atp = add(atp, scale(f, (cfg.layers[k] + 1) / nL)); });
    // layer m sees everything until the first ATP layer, then the fraction of the latest ATP layer before it
    let total: Tensor = Tensor.scalar(0);
    for (let m = 0; m < nL; m++) {
      let k = -1;
      cfg.layers.forEach((a, i) => { if (a < m) k = i; });
      total = add(total, k < 0 ? Tensor.scalar(1) : fr[k]);
    }
    const mean = scale(total, 1 / nL);
    const pull = cfg.targetLoss === "dual" ? scale(mean, multiplier) : scale(abs(addScalar(mean, -cfg.targetFraction)), cfg.lambdaTarget);
    const loss = add(scale(atp, cfg.lambdaAtp), pull);
    return { loss, meanFraction: mean.item() };
  }
}

/** The threshold MLP's input: the self and cross score vectors, each pooled to cfg.pool values (in token
 * order, or sorted in descending order under scoreInput "sorted"), concatenated. */
export function thresholdInput(self: Float64Array, cross: Float64Array, cfg: Pick<AtpConfig, "pool" | "scoreInput">): Float32Array {
  const order = (v: Float64Array): Float64Array => (cfg.scoreInput === "sorted" ? Float64Array.from(v).sort().reverse() : v);
  const input = new Float32Array(2 * cfg.pool);
  input.set(poolTo(order(self), cfg.pool), 0);
  input.set(poolTo(order(cross), cfg.pool), cfg.pool);
  return input;
}

/** The hard rule: a token survives when either score passes its threshold. */
function survives(r: RowScores, i: number, thetaR: number, thetaS: number): boolean {
  return r.sr[i] > thetaR || r.ss[i] > thetaS;
}

/**
 * Forward: 1 where the hard rule keeps a scored token (S_r > theta_r or S_s > theta_s), else 0; backward:
 * the soft D's gradient (the constant added carries no gradient). Unscored slots (text, or tokens already
 * pruned) get 1 here: the cumulative product keeps a pruned token at 0.
 */
function straightThrough(soft: Tensor, rows: RowScores[], L: TokenLayout, thetaR: Tensor, thetaS: Tensor): Tensor {
  const hard = new Float32Array(soft.size).fill(1);
  rows.forEach((r, b) => r.slots.forEach((t, i) => {
    hard[b * L.T + t] = survives(r, i, thetaR.data[b], thetaS.data[b]) ? 1 : 0;
  }));
  const shift = Float32Array.from(hard, (h, j) => h - soft.data[j]);
  return add(soft, new Tensor(shift, soft.shape));
}
