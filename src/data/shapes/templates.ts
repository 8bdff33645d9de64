// Question templates of ShapesQA and ShapesVideoQA, keyed "type/subtype".
//
// Every question the generators emit is one of these strings with its {slots} filled from the closed
// tables in attributes.ts; the vocabulary (src/data/vocab.ts) is built from exactly these two sources.
// Answers are single words: colour, shape, size, digit, yes/no, left/right/up/down/above/below.
// Not here: when a template may be used or what its answer is (questions.ts, video-questions.ts).

export const IMAGE_QUESTION_TYPES = ["attribute", "existence", "count", "relation", "comparison", "two-hop"] as const;
export const VIDEO_QUESTION_TYPES = ["video-order", "video-direction", "video-count", "video-state"] as const;
export type ImageQuestionType = (typeof IMAGE_QUESTION_TYPES)[number];
export type VideoQuestionType = (typeof VIDEO_QUESTION_TYPES)[number];
export type QuestionType = ImageQuestionType | VideoQuestionType;

/**
 * Slots: {region} a region name, {colour}, {shape}, {shapes} (plural), {a} and {b} object descriptions
 * ("<colour> <shape>"), {direction}, {frame} (a 1-based frame number).
 */
export const TEMPLATES = {
  "attribute/colour": "what colour is the object in the {region}?",
  "attribute/shape": "what shape is the object in the {region}?",
  "attribute/size": "what size is the object in the {region}?",
  "existence/colour": "are there any {colour} objects?",
  "existence/shape": "are there any {shapes}?",
  "existence/pair": "are there any {colour} {shapes}?",
  "count/total": "how many objects are there?",
  "count/colour": "how many {colour} objects are there?",
  "count/shape": "how many {shapes} are there?",
  "relation/left-of": "is the {a} to the left of the {b}?",
  "relation/above": "is the {a} above the {b}?",
  "relation/where": "where is the {a} relative to the {b}?",
  "relation/nearest-colour": "what colour is the object nearest to the {a}?",
  "relation/nearest-shape": "what shape is the object nearest to the {a}?",
  "comparison/largest-colour": "what colour is the largest object?",
  "comparison/largest-shape": "what shape is the largest object?",
  "comparison/smallest-colour": "what colour is the smallest object?",
  "comparison/smallest-shape": "what shape is the smallest object?",
  "comparison/larger": "is the {a} larger than the {b}?",
  "two-hop/nearest-largest-colour": "what colour is the object nearest to the largest object?",
  "two-hop/nearest-smallest-shape": "what shape is the object nearest to the smallest object?",
  "two-hop/largest-of-shape": "what colour is the largest {shape}?",
  "two-hop/leftmost-of-colour": "what shape is the leftmost {colour} object?",
  "video-order/first-colour": "which colour appeared first?",
  "video-order/last-shape": "which shape appeared last?",
  "video-order/disappeared-first-colour": "which colour disappeared first?",
  "video-order/before": "did the {a} appear before the {b}?",
  "video-direction/where": "where did the {a} move?",
  "video-direction/which-colour": "what colour is the object that moved {direction}?",
  "video-count/appeared": "how many objects appear in the video?",
  "video-count/disappeared": "how many objects disappeared?",
  "video-count/moved": "how many objects moved?",
  "video-state/region-colour": "what colour is the object in the {region} in frame {frame}?",
  "video-state/visible": "is the {a} visible in frame {frame}?",
  "video-state/count": "how many objects are visible in frame {frame}?",
} as const;

export type TemplateKey = keyof typeof TEMPLATES;

export type Slots = Partial<Record<"region" | "colour" | "shape" | "shapes" | "a" | "b" | "direction" | "frame", string>>;

/** Fill a template; throws if a slot is missing, so a half-filled question can never escape. */
export function fillTemplate(key: TemplateKey, slots: Slots): string {
  return TEMPLATES[key].replace(/\{(\w+)\}/g, (_m, name: string) => {
    const v = slots[name as keyof Slots];
    if (v === undefined) throw new Error(`template ${key}: slot {${name}} not given`);
    return v;
  });
}

/** One generated question: its type tag, the template it came from, the text and the one-word answer. */
export interface QA {
  type: QuestionType;
  /** "type/subtype", a key of TEMPLATES. */
  template: TemplateKey;
  question: string;
  answer: string;
}

export function makeQA(template: TemplateKey, slots: Slots, answer: string): QA {
  const type = template.slice(0, template.indexOf("/")) as QuestionType;
  return { type, template, question: fillTemplate(template, slots), answer };
}
