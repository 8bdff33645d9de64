// `vlmc show atp`: what ATP keeps for one image and question. One panel per ATP layer: the image with
// the pruned patches dimmed, so a person can see that pruning follows the question.
import { blit, createImage, resizeImage, type RgbImage } from "../data/image.js";
import { drawText } from "../data/contact-sheet.js";
import { toFloat } from "../data/image.js";
import type { Vocab } from "../data/vocab.js";
import { AtpHooks } from "../compress/atp/hooks.js";
import type { LlavaForCausalLM } from "../model/vlm.js";
import { noGrad } from "../tensor/autograd.js";
import { argmax } from "../model/generate.js";
import { encodeConversation } from "../train/format.js";

export interface AtpView {
  image: RgbImage;
  answer: string;
  keptPerLayer: number[];
}

function dimmed(img: RgbImage, grid: number, kept: ReadonlySet<number>): RgbImage {
  const out = { width: img.width, height: img.height, data: img.data.slice() };
  const p = img.width / grid;
  for (let y = 0; y < img.height; y++) for (let x = 0; x < img.width; x++) {
    const patch = Math.floor(y / p) * grid + Math.floor(x / p);
    if (kept.has(patch)) continue;
    for (let c = 0; c < 3; c++) out.data[(y * img.width + x) * 3 + c] = Math.round(out.data[(y * img.width + x) * 3 + c] * 0.2);
  }
  return out;
}

export function showAtp(model: LlavaForCausalLM, vocab: Vocab, hooks: AtpHooks, img: RgbImage, question: string): AtpView {
  const { ids } = encodeConversation([{ from: "human", value: question }], vocab, 1);
  const pixels = toFloat(img, "chw", model.vcfg.image_mean, model.vcfg.image_std);
  const out = noGrad(() => {
    const batch = model.buildBatch([{ ids, images: [pixels] }], hooks);
    return model.forwardBatch(batch, { hooks });
  });
  const V = model.cfg.vocab_size, L = out.layout, slot = L.length[0] - 1;
  const best = argmax(out.logits.data.subarray(slot * V, (slot + 1) * V));
  const grid = model.vcfg.vision.image_size / model.vcfg.vision.patch_size;
  const show = img.width < 192 ? resizeImage(img, 192, 192) : img; // small images are enlarged to be seen
  const panels = [show, ...hooks.keptPatches.map((layers) => dimmed(show, grid, new Set(layers[0])))];
  const title = `${question}  ->  ${vocab.tokens[best]}`;
  const pad = 8, head = 40;
  const W = Math.max(panels.length * (show.width + pad) + pad, 2 * pad + 6 * title.length), H = show.height + head + 2 * pad;
  const sheet = createImage(W, H, [24, 24, 28]);
  drawText(sheet, title, pad, 6, [230, 230, 230]);
  panels.forEach((p, i) => {
    const x = pad + i * (show.width + pad);
    blit(sheet, p, x, head);
    const label = i === 0 ? "input" : `after layer ${hooks.cfg.layers[i - 1]}: ${hooks.keptPatches[i - 1][0].length} kept`;
    drawText(sheet, label, x, head - 14, [170, 170, 180]);
  });
  return { image: sheet, answer: vocab.tokens[best], keptPerLayer: hooks.keptPatches.map((l) => l[0].length) };
}
