// Scene descriptions ("captions") for the alignment stage of VLM training, LLaVA-1.5's stage 1 in
// spirit: every object as "size colour shape region", in reading order (by region, then left to
// right), joined by commas. Dense supervision that ties every attribute to the image. Uses only
// words the question generators already emit, so the vocabulary is unchanged.
import { COLOURS, REGIONS, regionIndex } from "./attributes.js";
import type { Scene } from "./scene.js";

export const CAPTION_QUESTION = "what objects are there?";

/**
 * The objects in reading order; with `absent`, also one colour the scene lacks ("no red objects"),
 * chosen from the scene's own seed, so captions teach absence as well as presence.
 */
export function captionOf(scene: Scene, absent = false): string {
  const objs = scene.objects.map((o) => ({ o, r: regionIndex(o.x, o.y) }));
  objs.sort((a, b) => a.r - b.r || a.o.x - b.o.x);
  const parts = objs.map(({ o, r }) => `${o.size} ${o.colour} ${o.shape} ${REGIONS[r]}`);
  if (absent) {
    const missing = COLOURS.filter((c) => !scene.objects.some((o) => o.colour === c));
    if (missing.length > 0) parts.push(`no ${missing[scene.background.seed % missing.length]} objects`);
  }
  return parts.join(" , ");
}

/**
 * The scene in words for text-only pretraining of the LLM: every object as "size colour shape col row"
 * with the column and row of its centre on a G x G grid (12, the small model's patch grid; the
 * vocabulary has the numbers 0-16), in drawing order, joined by commas. It carries what the questions
 * need, so the LLM can learn to answer questions about a scene before it learns to see one.
 */
export function sceneText(scene: Scene, G = 12): string {
  const cell = (f: number) => Math.min(G - 1, Math.max(0, Math.floor(f * G)));
  return scene.objects.map((o) => `${o.size} ${o.colour} ${o.shape} ${cell(o.x)} ${cell(o.y)}`).join(" , ");
}
