// Question generators for ShapesVideoQA clips: order, direction, count over time, state at a frame.
//
// Same contract as questions.ts: a generator returns an unambiguous question with a one-word answer or
// null. Frame numbers in questions are 1-based ("frame 1" is the first frame). Yes/no answers are
// chosen first; counts are balanced because the clip sampler draws the number of objects, movers and
// leavers uniformly; colour/shape/direction answers are balanced by symmetry.
// Not here: image questions (questions.ts), clip sampling (video.ts).

import { DIRECTIONS, REGIONS, numberWord } from "./attributes.js";
import { aloneInRegion, describable, describe, pickTarget, type QuestionContext } from "./questions.js";
import { makeQA, type QA, type VideoQuestionType } from "./templates.js";
import { directionOf, objectsAtFrame, type VideoObject, type VideoScene } from "./video.js";

type Gen = (v: VideoScene, ctx: QuestionContext) => QA | null;

/** Ceiling on the most common answer's share per video type (see MAX_ANSWER_SHARE in questions.ts). */
export const MAX_VIDEO_ANSWER_SHARE: Record<VideoQuestionType, number> = {
  "video-order": 0.2, // measured ~0.15 (yes / no)
  "video-direction": 0.2, // ~0.15 (each direction)
  "video-count": 0.3, // ~0.26 ("2": object counts 2-5, leavers 0..n-1, movers 1..n)
  "video-state": 0.22, // ~0.17 (yes / no)
};

/** The object with the unique smallest (dir=1) or largest (dir=-1) key, if unique. */
function uniqueBy(objs: VideoObject[], key: (o: VideoObject) => number, dir: 1 | -1): VideoObject | null {
  if (objs.length < 2) return null;
  const best = dir * Math.min(...objs.map((o) => dir * key(o)));
  const top = objs.filter((o) => key(o) === best);
  return top.length === 1 ? top[0] : null;
}

const order: Record<string, Gen> = {
  "first-colour": (v) => {
    const o = uniqueBy(v.objects, (p) => p.start, 1);
    return o ? makeQA("video-order/first-colour", {}, o.colour) : null;
  },
  "last-shape": (v) => {
    const o = uniqueBy(v.objects, (p) => p.start, -1);
    return o ? makeQA("video-order/last-shape", {}, o.shape) : null;
  },
  "disappeared-first-colour": (v) => {
    const leavers = v.objects.filter((o) => o.end < v.frames);
    // With a single leaver, "first" is still well defined; with none, the question makes no sense.
    const o = leavers.length === 1 ? leavers[0] : uniqueBy(leavers, (p) => p.end, 1);
    return o ? makeQA("video-order/disappeared-first-colour", {}, o.colour) : null;
  },
  before: (v, ctx) => {
    const objs = describable(v.objects);
    const pairs: [VideoObject, VideoObject][] = [];
    for (const a of objs) for (const b of objs) if (a.start < b.start) pairs.push([a, b]);
    const p = pickTarget(pairs, ctx);
    if (!p) return null;
    const yes = ctx.rng.bool();
    const [a, b] = yes ? p : [p[1], p[0]];
    return makeQA("video-order/before", { a: describe(a), b: describe(b) }, yes ? "yes" : "no");
  },
};

const direction: Record<string, Gen> = {
  where: (v, ctx) => {
    const movers = describable(v.objects).filter((o) => directionOf(o) !== null);
    const o = pickTarget(movers, ctx);
    return o ? makeQA("video-direction/where", { a: describe(o) }, directionOf(o)!) : null;
  },
  "which-colour": (v, ctx) => {
    const dirs = DIRECTIONS.filter((d) => v.objects.filter((o) => directionOf(o) === d).length === 1);
    if (dirs.length === 0) return null;
    const d = ctx.rng.pick(dirs);
    const o = v.objects.find((p) => directionOf(p) === d)!;
    return makeQA("video-direction/which-colour", { direction: d }, o.colour);
  },
};

const count: Record<string, Gen> = {
  appeared: (v) => makeQA("video-count/appeared", {}, numberWord(v.objects.length)),
  disappeared: (v) =>
    makeQA("video-count/disappeared", {}, numberWord(v.objects.filter((o) => o.end < v.frames).length)),
  moved: (v) => makeQA("video-count/moved", {}, numberWord(v.objects.filter((o) => directionOf(o) !== null).length)),
};

const state: Record<string, Gen> = {
  "region-colour": (v, ctx) => {
    const hits: { f: number; r: number; colour: string }[] = [];
    for (let f = 0; f < v.frames; f++) {
      const objs = objectsAtFrame(v, f);
      for (let r = 0; r < REGIONS.length; r++) {
        const o = aloneInRegion(objs, r);
        if (o) hits.push({ f, r, colour: o.colour });
      }
    }
    if (hits.length === 0) return null;
    const h = ctx.rng.pick(hits);
    return makeQA("video-state/region-colour", { region: REGIONS[h.r], frame: numberWord(h.f + 1) }, h.colour);
  },
  visible: (v, ctx) => {
    const yes = ctx.rng.bool();
    const cands = describable(v.objects).filter((o) => yes || o.start > 0 || o.end < v.frames);
    const o = pickTarget(cands, ctx);
    if (!o) return null;
    const frames = [...Array(v.frames).keys()].filter((f) => (o.start <= f && f < o.end) === yes);
    const f = ctx.rng.pick(frames);
    return makeQA("video-state/visible", { a: describe(o), frame: numberWord(f + 1) }, yes ? "yes" : "no");
  },
  count: (v, ctx) => {
    const f = ctx.rng.int(v.frames);
    return makeQA("video-state/count", { frame: numberWord(f + 1) }, numberWord(objectsAtFrame(v, f).length));
  },
};

const GENERATORS: Record<VideoQuestionType, Record<string, Gen>> = {
  "video-order": order,
  "video-direction": direction,
  "video-count": count,
  "video-state": state,
};

/** A question of `type` about clip `v`, trying its subtypes in random order; null if none applies. */
export function videoQuestion(type: VideoQuestionType, v: VideoScene, ctx: QuestionContext): QA | null {
  for (const name of ctx.rng.shuffled(Object.keys(GENERATORS[type]))) {
    const qa = GENERATORS[type][name](v, ctx);
    if (qa) return qa;
  }
  return null;
}
