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
