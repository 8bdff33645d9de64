// Splits, the held-out combination rule and difficulty presets of ShapesQA / ShapesVideoQA.
//
// Seeds: example i of split s under dataset seed d is generated from Rng.from(d, SPLIT_ID[s], kind, i).
// The key tuples of different splits never coincide, so train/val/test/heldout come from disjoint
// seeds by construction (and an example can be regenerated from its id alone).
// Held-out rule: HELDOUT_PAIRS is one (shape, colour) pair per shape, each colour used once (a Latin
// pattern, so every shape and every colour loses exactly one partner and the marginals stay
// balanced). train/val/test never draw, and never name, these pairs; the heldout split draws and
// names only these pairs, so it contains no combination seen in training and every question in it
// is about unseen combinations.
// Not here: the generators themselves (shapes/), iteration (stream.ts).

import { COLOURS, SHAPES, type Colour, type Shape } from "./shapes/attributes.js";
import type { QuestionContext } from "./shapes/questions.js";
import type { SceneSpec } from "./shapes/scene.js";
import { Rng } from "./random.js";

export const SPLITS = ["train", "val", "test", "heldout"] as const;
export type Split = (typeof SPLITS)[number];
const SPLIT_ID: Record<Split, number> = { train: 1, val: 2, test: 3, heldout: 4 };

export type ExampleKind = "image" | "video";

/** The generator of example `index` in `split` (image and video streams are separate). */
export function exampleRng(datasetSeed: number, split: Split, kind: ExampleKind, index: number): Rng {
  if (!Number.isInteger(index) || index < 0) throw new Error(`example index must be an integer >= 0, got ${index}`);
  return Rng.from(datasetSeed, SPLIT_ID[split], kind === "image" ? 0 : 1, index);
}

/** Shape i is held out with colour (3i + 1) mod 8: a bijection between shapes and colours. */
export const HELDOUT_PAIRS: ReadonlyArray<{ shape: Shape; colour: Colour }> = SHAPES.map((shape, i) => ({
  shape,
  colour: COLOURS[(3 * i + 1) % COLOURS.length],
}));

export function isHeldOutPair(shape: Shape, colour: Colour): boolean {
  return HELDOUT_PAIRS.some((p) => p.shape === shape && p.colour === colour);
}

export function isSplit(s: string): s is Split {
  return (SPLITS as readonly string[]).includes(s);
}

export interface SplitRules {
  /** Which (shape, colour) pairs scenes may contain. */
  allowed: SceneSpec["allowed"];
  /** Which pairs questions may name. */
  askable: QuestionContext["askable"];
}

export function splitRules(split: Split): SplitRules {
  const rule = split === "heldout" ? isHeldOutPair : (s: Shape, c: Colour) => !isHeldOutPair(s, c);
  return { allowed: rule, askable: rule };
}

export interface Difficulty {
  name: string;
  /** Objects per image, inclusive range. */
  minObjects: number;
  maxObjects: number;
  /** Multiplies every object radius. */
  sizeScale: number;
  /** 0..1: background noise, gradient, distractor strokes. */
  clutter: number;
  occlusion: boolean;
  /** Maximum rotation of a shape, radians. */
  angleJitter: number;
  /** Objects per clip and frames per clip, inclusive ranges. */
  minVideoObjects: number;
  maxVideoObjects: number;
  minFrames: number;
  maxFrames: number;
}

export const DIFFICULTIES = {
  easy: {
    name: "easy",
    minObjects: 2,
    maxObjects: 4,
    sizeScale: 1.15,
    clutter: 0,
    occlusion: false,
    angleJitter: 0,
    minVideoObjects: 2,
    maxVideoObjects: 3,
    minFrames: 8,
    maxFrames: 8,
  },
  medium: {
    name: "medium",
    minObjects: 2,
    maxObjects: 8,
    sizeScale: 1,
    clutter: 0.3,
    occlusion: false,
    angleJitter: 0.15,
    minVideoObjects: 2,
    maxVideoObjects: 5,
    minFrames: 8,
    maxFrames: 16,
  },
  hard: {
    name: "hard",
    minObjects: 5,
    maxObjects: 8,
    sizeScale: 0.8,
    clutter: 1,
    occlusion: true,
    angleJitter: 0.3,
    minVideoObjects: 4,
    maxVideoObjects: 6,
    minFrames: 12,
    maxFrames: 16,
  },
} as const satisfies Record<string, Difficulty>;

export type DifficultyName = keyof typeof DIFFICULTIES;

export function isDifficultyName(s: string): s is DifficultyName {
  return Object.hasOwn(DIFFICULTIES, s);
}
