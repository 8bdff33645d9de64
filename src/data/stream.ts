// On-the-fly ShapesQA / ShapesVideoQA examples: scene (or clip) + rendered pixels + multi-turn Q/A.
//
// `makeExample(kind, index, opts)` is a pure function of (dataset seed, split, kind, index, options),
// so training can stream examples forever without files, two workers can split indices, and any
// example can be regenerated from its id. `streamExamples` iterates indices [start, start + count).
// Per example: pick the question types first (a random subset of the kind's types), plan the count
// answer if a count question is coming, sample the scene under the split's combination rule, then ask.
// Not here: files (llava-json.ts writes datasets to disk), tokenisation (vocab.ts), batching.

import { COLOURS, SHAPES } from "./shapes/attributes.js";
import { extraCountQuestion, sceneQuestion, type QuestionContext } from "./shapes/questions.js";
import { renderScene } from "./shapes/render.js";
import { sampleScene, type CountPlan, type Scene } from "./shapes/scene.js";
import {
  IMAGE_QUESTION_TYPES,
  VIDEO_QUESTION_TYPES,
  type ImageQuestionType,
  type QA,
  type QuestionType,
  type VideoQuestionType,
} from "./shapes/templates.js";
import { videoQuestion } from "./shapes/video-questions.js";
import { frameScene, sampleVideo, type VideoScene } from "./shapes/video.js";
import { DIFFICULTIES, exampleRng, splitRules, type Difficulty, type ExampleKind, type Split } from "./splits.js";
import type { Rng } from "./random.js";

/** One turn of a LLaVA conversation. */
export interface Turn {
  from: "human" | "gpt";
  value: string;
}

export interface ExampleOptions {
  split: Split;
  /** Dataset seed (default 0): a different seed gives a different, equally valid dataset. */
  seed?: number;
  difficulty?: Difficulty;
  /** Image side in pixels (default 192). */
  size?: number;
  /** Questions per image or clip (default 4). */
  questions?: number;
  /** Most questions of one type per image or clip (default 1: each type at most once). More gives more
   * answers per rendered image (denser training data); the evaluation splits keep the default. */
  perType?: number;
  /** Per-type exceptions to `perType` (e.g. { existence: 6 }): more practice on one skill per image. */
  perTypeOf?: Partial<Record<QuestionType, number>>;
  /** Render pixels (default true); false gives scene + questions only, for statistics. */
  render?: boolean;
  /** Restrict the question types (default: all of the kind's types). */
  types?: readonly QuestionType[];
  /** Images: fill the count type's share (`perType` / `perTypeOf`) with unplanned count questions after
   * the planned one (a training option: their answers are not balanced; default false). */
  extraCounts?: boolean;
}

export interface Example {
  id: string;
  split: Split;
  kind: ExampleKind;
  width: number;
  height: number;
  scene: Scene | VideoScene;
  /** HWC RGB 8-bit: one image, or the clip's frames in time order; empty when render is false. */
  frames: Uint8Array[];
  qa: QA[];
  conversations: Turn[];
}

export const DEFAULT_SIZE = 192;
export const DEFAULT_QUESTIONS = 4;
/** Largest per-attribute count a count plan asks for ("how many red objects?" -> 0..4). */
export const MAX_PLANNED_COUNT = 4;

export function exampleId(split: Split, kind: ExampleKind, index: number, seed = 0): string {
  return `${split}-${kind === "image" ? "i" : "v"}${seed === 0 ? "" : `s${seed}-`}${String(index).padStart(7, "0")}`;
}

export function makeExample(kind: ExampleKind, index: number, opts: ExampleOptions): Example {
  const seed = opts.seed ?? 0;
  const rng = exampleRng(seed, opts.split, kind, index);
  const size = opts.size ?? DEFAULT_SIZE;
  const built = kind === "image" ? buildImage(rng, opts) : buildVideo(rng, opts);
  const render = opts.render ?? true;
  const frames = !render
    ? []
    : kind === "image"
      ? [renderScene(built.scene as Scene, size, size, new Uint8Array(size * size * 3))]
      : [...Array((built.scene as VideoScene).frames).keys()].map((f) =>
          renderScene(frameScene(built.scene as VideoScene, f), size, size, new Uint8Array(size * size * 3)),
        );
  return {
    id: exampleId(opts.split, kind, index, seed),
    split: opts.split,
    kind,
    width: size,
    height: size,
    scene: built.scene,
    frames,
    qa: built.qa,
    conversations: toConversation(built.qa),
  };
}

export function* streamExamples(
  kind: ExampleKind,
  opts: ExampleOptions & { start?: number; count?: number },
): Generator<Example> {
  const start = opts.start ?? 0;
  const end = opts.count === undefined ? Infinity : start + opts.count;
  for (let i = start; i < end; i++) yield makeExample(kind, i, opts);
}

/** LLaVA form: the first human turn starts with "<image>\n"; one human/gpt pair per question. */
export function toConversation(qa: QA[]): Turn[] {
  return qa.flatMap((q, i) => [
    { from: "human" as const, value: i === 0 ? `<image>\n${q.question}` : q.question },
    { from: "gpt" as const, value: q.answer },
  ]);
}

function typeOrder<T extends QuestionType>(rng: Rng, all: readonly T[], opts: ExampleOptions): T[] {
  const allowed = opts.types ? all.filter((t) => opts.types!.includes(t)) : all.slice();
  return rng.shuffled(allowed);
}

/**
 * Ask the types in order until `k` distinct questions exist (a type with no valid question is skipped);
 * with `rounds(t)` > 1, go round the types again: type t takes part in its first rounds(t) rounds. A
 * repeat of an earlier question is dropped, so a scene with few distinct questions of a type gives fewer.
 */
function ask<T extends QuestionType>(types: T[], k: number, gen: (t: T) => QA | null, rounds: (t: T) => number = () => 1): QA[] {
  const out: QA[] = [];
  const most = Math.max(0, ...types.map(rounds));
  for (let round = 0; round < most; round++) {
    for (const t of types) {
      if (out.length >= k) return out;
      if (round >= rounds(t)) continue;
      const qa = gen(t);
      if (qa && !out.some((q) => q.question === qa.question)) out.push(qa);
    }
  }
  return out;
}

function buildImage(rng: Rng, opts: ExampleOptions): { scene: Scene; qa: QA[] } {
  const d = opts.difficulty ?? DIFFICULTIES.medium;
  const k = opts.questions ?? DEFAULT_QUESTIONS;
  const rules = splitRules(opts.split);
  let types = typeOrder<ImageQuestionType>(rng, IMAGE_QUESTION_TYPES, opts);
  // Plan the count answer before the scene exists, if a count question is among the first k types;
  // otherwise count is not used as a fallback (an unplanned count would skew the count answers).
  const plan = types.slice(0, k).includes("count") ? planCount(rng, d) : undefined;
  if (!plan) types = types.filter((t) => t !== "count");
  const minN = Math.max(d.minObjects, plan && plan !== "total" ? plan.n : 0);
  const nObjects = rng.range(minN, d.maxObjects);
  const scene = sampleScene(rng.fork("scene"), {
    nObjects,
    sizeScale: d.sizeScale,
    occlusion: d.occlusion,
    angleJitter: d.angleJitter,
    clutter: d.clutter,
    allowed: rules.allowed,
    countPlan: plan === "total" ? undefined : plan,
    // A unique largest or smallest object, so comparison questions need not fall back to yes/no.
    extremeSize: types.slice(0, k).includes("comparison") ? (rng.bool() ? 1 : -1) : undefined,
  });
  const ctx: QuestionContext = { rng: rng.fork("questions"), askable: rules.askable, countPlan: plan };
  const share = perTypeOf(opts);
  const qa = ask(types, k, (t) => sceneQuestion(t, scene, ctx), share);
  if (opts.extraCounts && plan) addExtraCounts(qa, k, share("count"), scene, rng.fork("extra-counts"));
  return { scene, qa };
}

/** Up to `share` count questions in all (the planned one included), while fewer than `k` questions exist. */
function addExtraCounts(qa: QA[], k: number, share: number, scene: Scene, rng: Rng): void {
  let have = qa.filter((q) => q.type === "count").length;
  for (let tries = 0; have < share && qa.length < k && tries < 4 * share; tries++) {
    const q = extraCountQuestion(scene.objects, rng);
    if (qa.some((o) => o.question === q.question)) continue;
    qa.push(q);
    have++;
  }
}

/** A third each: total, per colour, per shape; per-attribute targets uniform in 0..MAX_PLANNED_COUNT. */
function planCount(rng: Rng, d: Difficulty): CountPlan | "total" {
  const which = rng.int(3);
  if (which === 0) return "total";
  const attr = which === 1 ? "colour" : "shape";
  const value = attr === "colour" ? rng.pick(COLOURS) : rng.pick(SHAPES);
  return { attr, value, n: rng.range(0, Math.min(MAX_PLANNED_COUNT, d.maxObjects)) };
}

function buildVideo(rng: Rng, opts: ExampleOptions): { scene: VideoScene; qa: QA[] } {
  const d = opts.difficulty ?? DIFFICULTIES.medium;
  const k = opts.questions ?? DEFAULT_QUESTIONS;
  const rules = splitRules(opts.split);
  const types = typeOrder<VideoQuestionType>(rng, VIDEO_QUESTION_TYPES, opts);
  const nObjects = rng.range(d.minVideoObjects, d.maxVideoObjects);
  const clip = sampleVideo(rng.fork("clip"), {
    frames: rng.range(d.minFrames, d.maxFrames),
    nObjects,
    nMoving: rng.range(1, nObjects),
    nDisappear: rng.range(0, nObjects - 1),
    sizeScale: d.sizeScale,
    angleJitter: d.angleJitter,
    clutter: d.clutter,
    allowed: rules.allowed,
  });
  const ctx: QuestionContext = { rng: rng.fork("questions"), askable: rules.askable };
  return { scene: clip, qa: ask(types, k, (t) => videoQuestion(t, clip, ctx), perTypeOf(opts)) };
}

function perTypeOf(opts: ExampleOptions): (t: QuestionType) => number {
  const check = (what: string, p: number) => {
    if (!Number.isInteger(p) || p < 1) throw new Error(`${what} must be an integer >= 1, got ${p}`);
    return p;
  };
  const base = check("perType", opts.perType ?? 1);
  const by = Object.fromEntries(Object.entries(opts.perTypeOf ?? {}).map(([t, p]) => [t, check(`perTypeOf.${t}`, p as number)]));
  return (t) => by[t] ?? base;
}
