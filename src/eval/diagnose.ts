// Diagnostics for VLM training: does the model look at the right vision tokens? For existence
// questions about a colour present in the image ("are there any red objects?"), the attention that
// the colour word and the last prompt token put on that colour's patches, relative to the share of
// the vision tokens those patches are (1 = no preference), per decoder layer, averaged over images.
import { COLOURS } from "../data/shapes/attributes.js";
import { patchLabels } from "../data/shapes/patch-labels.js";
import type { Scene } from "../data/shapes/scene.js";
import { makeExample } from "../data/stream.js";
import { toFloat } from "../data/image.js";
import type { Vocab } from "../data/vocab.js";
import type { LlavaForCausalLM } from "../model/vlm.js";
import { visionSlots } from "../compress/common.js";
import { noGrad } from "../tensor/autograd.js";
import type { Tensor } from "../tensor/tensor.js";
import { encodeConversation } from "../train/format.js";

export interface ColourAttention {
  images: number;
  colourWord: number[];
  lastToken: number[];
}

export function colourAttention(model: LlavaForCausalLM, vocab: Vocab, images = 20, seed = 0): ColourAttention {
  const nL = model.cfg.num_hidden_layers, S = model.vcfg.vision.image_size, G = S / model.vcfg.vision.patch_size;
  const word = new Array<number>(nL).fill(0), last = new Array<number>(nL).fill(0);
  let n = 0;
  for (let i = 0; n < images && i < 10 * images; i++) {
    const ex = makeExample("image", 2000 + i, { split: "val", seed, size: S });
    const labels = patchLabels(ex.scene as Scene, G);
    const code = labels.colour.find((c) => c > 0);
    if (code === undefined) continue;
    const { ids } = encodeConversation([{ from: "human", value: `are there any ${COLOURS[code - 1]} objects?` }], vocab, 1);
    const probs: Tensor[] = [];
    const pixels = toFloat({ width: S, height: S, data: ex.frames[0] }, "chw", model.vcfg.image_mean, model.vcfg.image_std);
    const batch = noGrad(() => model.buildBatch([{ ids, images: [pixels] }]));
    noGrad(() => model.forwardBatch(batch, { hooks: { wantsProbs: () => true, afterLayer: (l, _h, _L, p) => { if (p) probs[l] = p; return null; } } }));
    const L = batch.layout, vis = visionSlots(L, 0), T = L.length[0];
    const colourSlot = vis[vis.length - 1] + 1 + 4; // after the image: user, are, there, any, <colour>
    const share = labels.colour.filter((c) => c === code).length / vis.length;
    for (let l = 0; l < nL; l++) {
      const p = probs[l], NH = p.shape[1], Tk = p.shape[3];
      for (const [slot, acc] of [[colourSlot, word], [T - 1, last]] as const) {
        let on = 0, all = 0;
        for (let h = 0; h < NH; h++) vis.forEach((j, k) => {
          const a = p.data[((0 * NH + h) * p.shape[2] + slot) * Tk + j];
          all += a;
          if (labels.colour[k] === code) on += a;
        });
        acc[l] += on / Math.max(all, 1e-12) / share;
      }
    }
    n++;
  }
  return { images: n, colourWord: word.map((x) => x / Math.max(1, n)), lastToken: last.map((x) => x / Math.max(1, n)) };
}
