// Scene descriptions ("captions") for the alignment stage of VLM training, LLaVA-1.5's stage 1 in
// spirit: every object as "size colour shape region", in reading order (by region, then left to
// right), joined by commas. Dense supervision that ties every attribute to the image. Uses only
// words the question generators already emit, so the vocabulary is unchanged.
import { REGIONS, regionIndex } from "./attributes.js";
import type { Scene } from "./scene.js";

export const CAPTION_QUESTION = "what objects are there?";

export function captionOf(scene: Scene): string {
  const objs = scene.objects.map((o) => ({ o, r: regionIndex(o.x, o.y) }));
  objs.sort((a, b) => a.r - b.r || a.o.x - b.o.x);
  return objs.map(({ o, r }) => `${o.size} ${o.colour} ${o.shape} ${REGIONS[r]}`).join(" , ");
}
