// Two trivial reducers that prove the model's hooks: KeepAll (the identity: every reducer's
// zero point) and DropAtLayer (drops chosen tokens after a chosen layer, so a test can compare
// with a reference that removes those tokens' keys from that layer on).
import type { DecoderHooks } from "../model/hooks.js";
import type { TokenLayout } from "../model/layout.js";

export class KeepAll implements DecoderHooks {
  afterLayer(): Uint8Array | null {
    return null;
  }
}

export class DropAtLayer implements DecoderHooks {
  /**
   * Tokens whose original index is in drop[b] are removed after layer `afterLayerIndex`
   * (0-based), i.e. layers afterLayerIndex+1 and later no longer see or compute them.
   */
  constructor(readonly afterLayerIndex: number, readonly drop: readonly (readonly number[])[]) {}

  afterLayer(layer: number, _h: unknown, L: TokenLayout): Uint8Array | null {
    if (layer !== this.afterLayerIndex) return null;
    const keep = new Uint8Array(L.B * L.T).fill(1);
    for (let b = 0; b < L.B; b++) for (let t = 0; t < L.T; t++) {
      if (this.drop[b]?.includes(L.orig[b * L.T + t])) keep[b * L.T + t] = 0;
    }
    return keep;
  }
}
