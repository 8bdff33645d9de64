// Turns generated examples (LLaVA conversations + rendered frames) into model inputs: token ids
// with the image token where each image goes, labels on the answers only (LLaVA-1.5 trains on the
// assistant turns and their end-of-turn token), and normalised channel-first images.
// Template (a word-level stand-in for Vicuna v1's "USER: ... ASSISTANT: ...</s>"):
//   <s> <image> user Q1 assistant A1 </s> user Q2 assistant A2 </s> ...
// The image comes right after BOS, as VoCo-LLaMA's layout requires ([BOS][vision][VoCo]...).
import type { Example, Turn } from "../data/stream.js";
import { toFloat } from "../data/image.js";
import { Vocab } from "../data/vocab.js";
import type { VlmExample } from "../model/vlm.js";
import { IGNORE_INDEX } from "../tensor/ops/loss.js";

/** Words the template and the captions add to the generator's vocabulary. */
export const TEMPLATE_WORDS = ["user", "assistant", ","] as const; // "," separates objects in captions

/** The vocabulary every model uses: the generator's words plus the template's (plural shape words as singular + "-s" with `pluralSuffix`). */
export function buildVocab(opts: { pluralSuffix?: boolean } = {}): Vocab {
  return Vocab.build(TEMPLATE_WORDS, opts);
}

export interface FormatOptions {
  mean: readonly number[];
  std: readonly number[];
  /** Insert this many <voco> tokens right after the image (VoCo-LLaMA); default 0. */
  vocoTokens?: number;
  /** Keep only the first `maxTurns` question/answer pairs. */
  maxTurns?: number;
}

/** ids and labels of a conversation; the first human turn's "<image>\n" becomes the image token(s). */
export function encodeConversation(turns: readonly Turn[], vocab: Vocab, images: number, vocoTokens = 0): { ids: number[]; labels: number[] } {
  const ids: number[] = [vocab.special("<s>")];
  const labels: number[] = [IGNORE_INDEX];
  const push = (toks: number[], learn: boolean) => { ids.push(...toks); labels.push(...(learn ? toks : toks.map(() => IGNORE_INDEX))); };
  const image = vocab.special("<image>"), voco = vocab.special("<voco>");
  for (let i = 0; i < images; i++) push([image], false);
  if (vocoTokens > 0) push(new Array<number>(vocoTokens).fill(voco), false);
  for (const t of turns) {
    const text = t.value.replace(/<image>\n?/g, "");
    if (t.from === "human") push([vocab.id("user"), ...vocab.encode(text), vocab.id("assistant")], false);
    else push([...vocab.encode(text), vocab.special("</s>")], true);
  }
  return { ids, labels };
}

/** A generated example as VLM input (image examples: one image; video: one image token per frame). */
export function toVlmExample(ex: Example, vocab: Vocab, opts: FormatOptions): VlmExample {
  const pairs = opts.maxTurns === undefined ? ex.conversations : ex.conversations.slice(0, 2 * opts.maxTurns);
  const { ids, labels } = encodeConversation(pairs, vocab, ex.frames.length, opts.vocoTokens ?? 0);
  const images = ex.frames.map((f) => toFloat({ width: ex.width, height: ex.height, data: f }, "chw", opts.mean, opts.std));
  return { ids, labels, images };
}
