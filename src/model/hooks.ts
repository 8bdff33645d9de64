// Decoder hooks: how reducers act inside the LLM without the model knowing any method (DESIGN.md,
// Reducers). A hook can ask for a layer's attention probabilities, add a key bias to a layer's
// attention (soft masks while training), and, after a layer, choose which tokens survive into the
// later layers. The model owns these; compress/ implements them.
import type { Tensor } from "../tensor/tensor.js";
import type { TokenLayout } from "./layout.js";

export interface DecoderHooks {
  /** True if layer l (0-based) must return its attention probabilities (B, NH, T, Tk). */
  wantsProbs?(layer: number): boolean;
  /** An additive key bias (B, Tk) for layer l's attention over this chunk's keys, or null. */
  keyBias?(layer: number, layout: TokenLayout): Tensor | null;
  /**
   * Called after layer l with its output (B, T, C; with pruneBeforeMlp, the state before its MLP); returns
   * a keep mask (B*T) for the tokens that go on to layer l+1, or null to keep all. Dropped tokens' keys
   * and values vanish from later layers.
   */
  afterLayer?(layer: number, h: Tensor, layout: TokenLayout, probs: Tensor | null): Uint8Array | null;
  /** Called after afterLayer with the same output: replacement states (B, T, C) for the next layer (e.g.
   * merged tokens' averages), or null to keep h. Applied before any dropped tokens are removed. */
  mixStates?(layer: number, h: Tensor, layout: TokenLayout): Tensor | null;
  /**
   * True if layer l's keep decision reads only its attention probabilities, never a state (and mixStates
   * is null there): the model then calls afterLayer on the state after attention, before the MLP, and runs
   * the MLP on the survivors only. The dropped tokens' MLP outputs would reach nothing (their keys and
   * values in later layers are gone), so the result is the same and the MLP's FLOPs on them are saved.
   */
  pruneBeforeMlp?(layer: number): boolean;
}
