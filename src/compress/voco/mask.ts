// VoCo-LLaMA's attention mask (research/voco-llama.md section 2): causal everywhere, and every
// query after the last <voco> token is blocked from every key before the first <voco> token: the
// text sees the VoCo tokens and itself, never BOS, the vision tokens or anything else before the
// VoCo span. Expressed as visible key ranges (keyLo = first VoCo index), so no T x T mask exists.
// Rows without VoCo tokens keep plain causal attention. Indices are found per row in the final
// (truncated, spliced) sequence, so mixed batches and truncation cannot misalign them (both are
// defects of the official code).
import { TokenKind, type TokenLayout } from "../../model/layout.js";
import type { VlmHooks } from "../../model/vlm.js";

/** [first, last] slot of the VoCo span of row b, or null if the row has none. */
export function vocoSpan(L: TokenLayout, b: number): [number, number] | null {
  let first = -1, last = -1;
  for (let t = 0; t < L.length[b]; t++) {
    if (L.kind[b * L.T + t] !== TokenKind.voco) continue;
    if (first < 0) first = t;
    last = t;
  }
  return first < 0 ? null : [first, last];
}

/** Applies the VoCo mask to a causal layout in place. */
export function applyVocoMask(L: TokenLayout): void {
  for (let b = 0; b < L.B; b++) {
    const span = vocoSpan(L, b);
    if (span === null) continue;
    const [first, last] = span;
    for (let t = last + 1; t < L.length[b]; t++) {
      const i = b * L.T + t;
      L.keyLo[i] = Math.max(L.keyLo[i], first);
    }
  }
}

/** Hooks that apply the VoCo mask to every batch the VLM builds. */
export function vocoMaskHooks(): VlmHooks {
  return { adjustLayout: (L) => applyVocoMask(L) };
}
