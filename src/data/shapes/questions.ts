// Question generators for ShapesQA images: six types, each answered by one word.
//
// A generator looks at a scene and returns a question whose answer is unambiguous under the margins
// in `MARGINS`, or null when the scene offers none (the caller then tries another type). Balance:
// yes/no answers are chosen before the question is built; counts come from a plan fixed before the
// scene is sampled (scene.ts CountPlan); colour/shape/size answers are balanced by the symmetry of the
// scene sampler. `MAX_ANSWER_SHARE` states the resulting ceiling per type, and a test holds it.
// Not here: the text of the templates (templates.ts), video questions (video-questions.ts).

import { COLOURS, REGIONS, SHAPES, SHAPE_PLURALS, SIZES, numberWord, regionIndex, regionMargin } from "./attributes.js";
import type { Colour, Shape } from "./attributes.js";
import type { CountPlan, Scene, SceneObject } from "./scene.js";
import { makeQA, type ImageQuestionType, type QA, type TemplateKey } from "./templates.js";
import type { Rng } from "../random.js";

/** The geometry and attributes a question can refer to (an image object or a video object at a frame). */
export type Obj = Pick<SceneObject, "shape" | "colour" | "size" | "x" | "y" | "r">;
/** Anything with a shape and a colour (image objects, video objects). */
export type Named = Pick<SceneObject, "shape" | "colour">;

/** Generator-side margins (fractions of the image side). The checker accepts half of each. */
export const MARGINS = {
  /** A region's object has its centre this far inside; every other centre is this far outside. */
  region: 0.03,
  /** |dx| (or |dy|) for "left of" / "above"; also the gap for "leftmost". */
  axis: 0.1,
  /** "where is A relative to B": the dominant axis must be this many times the other. */
  whereRatio: 2,
  /** Nearest object: second-nearest centre distance >= ratio * nearest and >= nearest + gap. */
  nearestRatio: 1.3,
  nearestGap: 0.05,
};

/**
 * Upper bound on the share of the most common answer within each type, measured on 2000+ examples of
 * the default difficulty (yes/no types sit at ~0.5 by construction when they are the only answers).
 */
export const MAX_ANSWER_SHARE: Record<ImageQuestionType, number> = {
  attribute: 0.15, // measured ~0.11 (size answers are the densest group)
  existence: 0.55, // yes/no only, 0.5 by construction
  count: 0.22, // ~0.18 ("2"): 0-4 planned uniformly, 5-8 only as totals
  relation: 0.22, // ~0.16 for yes / no
  comparison: 0.12, // ~0.07
  "two-hop": 0.12, // ~0.08
};

export interface QuestionContext {
  rng: Rng;
  /** Whether a (shape, colour) pair may be named in a question (train never names held-out pairs). */
  askable: (shape: Shape, colour: Colour) => boolean;
  /** The count plan the scene was sampled with; "total" asks for the number of objects. */
  countPlan?: CountPlan | "total";
}

type Gen = (objs: Obj[], ctx: QuestionContext) => QA | null;

export const sizeRank = (o: Obj): number => SIZES.indexOf(o.size);
export const describe = (o: Named): string => `${o.colour} ${o.shape}`;

/** Objects whose "<colour> <shape>" names exactly one object. */
export function describable<T extends Named>(objs: T[]): T[] {
  return objs.filter((o) => objs.filter((p) => p.colour === o.colour && p.shape === o.shape).length === 1);
}

/** A uniformly chosen candidate, or null if there is none. */
export function pickTarget<T>(items: T[], ctx: QuestionContext): T | null {
  return items.length === 0 ? null : ctx.rng.pick(items);
}

/** The object alone in region r, well inside it, with every other centre well outside; else null. */
export function aloneInRegion(objs: Obj[], r: number): Obj | null {
  const inside = objs.filter((o) => regionIndex(o.x, o.y) === r);
  if (inside.length !== 1 || regionMargin(r, inside[0].x, inside[0].y) < MARGINS.region) return null;
  return objs.every((o) => o === inside[0] || regionMargin(r, o.x, o.y) <= -MARGINS.region) ? inside[0] : null;
}

/** The object nearest to `t`, if it is clearly nearest by centre distance and by edge distance. */
export function clearNearest(objs: Obj[], t: Obj): Obj | null {
  const others = objs.filter((o) => o !== t);
  if (others.length === 0) return null;
  const byCentre = (o: Obj) => Math.hypot(o.x - t.x, o.y - t.y);
  const byEdge = (o: Obj) => byCentre(o) - o.r - t.r;
  const best = (f: (o: Obj) => number) => others.slice().sort((a, b) => f(a) - f(b));
  const c = best(byCentre), e = best(byEdge);
  if (c[0] !== e[0]) return null;
  if (others.length === 1) return c[0];
  const d1 = byCentre(c[0]), d2 = byCentre(c[1]);
  const e1 = byEdge(e[0]), e2 = byEdge(e[1]);
  const clear = d2 >= MARGINS.nearestRatio * d1 && d2 - d1 >= MARGINS.nearestGap && e2 - e1 >= MARGINS.nearestGap;
  return clear ? c[0] : null;
}

/** The single object of the highest (dir=1) or lowest (dir=-1) size class, if unique. */
export function uniqueExtremeSize(objs: Obj[], dir: 1 | -1): Obj | null {
  if (objs.length < 2) return null;
  const best = dir * Math.max(...objs.map((o) => dir * sizeRank(o)));
  const top = objs.filter((o) => sizeRank(o) === best);
  return top.length === 1 ? top[0] : null;
}

const attribute: Record<string, Gen> = {
  colour: (objs, ctx) => atRegion(objs, ctx, "attribute/colour", (o) => o.colour),
  shape: (objs, ctx) => atRegion(objs, ctx, "attribute/shape", (o) => o.shape),
  size: (objs, ctx) => atRegion(objs, ctx, "attribute/size", (o) => o.size),
};

function atRegion(objs: Obj[], ctx: QuestionContext, key: TemplateKey, answer: (o: Obj) => string): QA | null {
  const hits: { r: number; o: Obj }[] = [];
  for (let r = 0; r < REGIONS.length; r++) {
    const o = aloneInRegion(objs, r);
    if (o) hits.push({ r, o });
  }
  const hit = pickTarget(hits, ctx);
  return hit ? makeQA(key, { region: REGIONS[hit.r] }, answer(hit.o)) : null;
}

const existence: Record<string, Gen> = {
  colour: (objs, ctx) => exists(objs, ctx, "existence/colour", (o) => ({ colour: o.colour })),
  shape: (objs, ctx) => exists(objs, ctx, "existence/shape", (o) => ({ shapes: SHAPE_PLURALS[o.shape] })),
  pair: (objs, ctx) =>
    exists(objs, ctx, "existence/pair", (o) => ({ colour: o.colour, shapes: SHAPE_PLURALS[o.shape] })),
};

/** Answer first: "yes" names a present object's attributes, "no" names an absent, askable combination. */
function exists(objs: Obj[], ctx: QuestionContext, key: TemplateKey, slots: (o: Obj) => Record<string, string>): QA | null {
  const asked = objs.filter((o) => ctx.askable(o.shape, o.colour));
  const present = new Set(objs.map((o) => JSON.stringify(slots(o))));
  if (ctx.rng.bool()) {
    const o = pickTarget(asked, ctx);
    return o ? makeQA(key, slots(o), "yes") : null;
  }
  const absent = allPairs(ctx).filter((o) => !present.has(JSON.stringify(slots(o))));
  const unique = [...new Map(absent.map((o) => [JSON.stringify(slots(o)), o])).values()];
  return unique.length > 0 ? makeQA(key, slots(ctx.rng.pick(unique)), "no") : null;
}

function allPairs(ctx: QuestionContext): Obj[] {
  const out: Obj[] = [];
  for (const shape of SHAPES)
    for (const colour of COLOURS)
      if (ctx.askable(shape, colour)) out.push({ shape, colour, size: "small", x: 0, y: 0, r: 0 });
  return out;
}

const count: Record<string, Gen> = {
  planned: (objs, ctx) => {
    const plan = ctx.countPlan ?? "total";
    if (plan === "total") return makeQA("count/total", {}, numberWord(objs.length));
    return countOf(objs, plan.attr, plan.value);
  },
};

/** "how many <colour> objects" / "how many <shapes>", answered with the scene's true count. */
function countOf(objs: readonly Obj[], attr: "colour" | "shape", value: string): QA {
  const n = objs.filter((o) => o[attr] === value).length;
  return attr === "colour"
    ? makeQA("count/colour", { colour: value }, numberWord(n))
    : makeQA("count/shape", { shapes: SHAPE_PLURALS[value as Shape] }, numberWord(n));
}

/**
 * An unplanned count question for training: a colour or a shape, present in the scene two times in
 * three, with its true count. The planned question keeps the count answers balanced; these add
 * practice on the same image (their answers lean to 0-2), so they are an option, never in the eval splits.
 */
export function extraCountQuestion(objs: readonly Obj[], rng: Rng): QA {
  const attr = rng.bool() ? "colour" : "shape";
  const present = [...new Set(objs.map((o) => o[attr]))];
  const pool: readonly string[] = present.length > 0 && rng.int(3) < 2 ? present : attr === "colour" ? COLOURS : SHAPES;
  return countOf(objs, attr, rng.pick(pool));
}

const relation: Record<string, Gen> = {
  "left-of": (objs, ctx) => ordered(objs, ctx, "relation/left-of", (o) => o.x),
  above: (objs, ctx) => ordered(objs, ctx, "relation/above", (o) => o.y),
  where: (objs, ctx) => {
    const pairs = pairsOf(describable(objs)).filter(([a, b]) => whereOf(a, b) !== null);
    const p = pickTarget(pairs, ctx);
    return p ? makeQA("relation/where", { a: describe(p[0]), b: describe(p[1]) }, whereOf(p[0], p[1])!) : null;
  },
  "nearest-colour": (objs, ctx) => nearestOf(objs, ctx, "relation/nearest-colour", (o) => o.colour),
  "nearest-shape": (objs, ctx) => nearestOf(objs, ctx, "relation/nearest-shape", (o) => o.shape),
};

function pairsOf(objs: Obj[]): [Obj, Obj][] {
  const out: [Obj, Obj][] = [];
  for (const a of objs) for (const b of objs) if (a !== b) out.push([a, b]);
  return out;
}

/** Yes/no on an ordering along `key` (smaller first): answer first, then orient the pair. */
function ordered(objs: Obj[], ctx: QuestionContext, key: TemplateKey, coord: (o: Obj) => number): QA | null {
  const pairs = pairsOf(describable(objs)).filter(([a, b]) => coord(b) - coord(a) >= MARGINS.axis);
  const p = pickTarget(pairs, ctx);
  if (!p) return null;
  const yes = ctx.rng.bool();
  const [a, b] = yes ? p : [p[1], p[0]];
  return makeQA(key, { a: describe(a), b: describe(b) }, yes ? "yes" : "no");
}

/** Where a is relative to b, if one axis clearly dominates. */
export function whereOf(a: Obj, b: Obj): string | null {
  const dx = a.x - b.x, dy = a.y - b.y;
  const ax = Math.abs(dx), ay = Math.abs(dy);
  if (Math.max(ax, ay) < MARGINS.axis) return null;
  if (ax >= MARGINS.whereRatio * ay) return dx < 0 ? "left" : "right";
  if (ay >= MARGINS.whereRatio * ax) return dy < 0 ? "above" : "below";
  return null;
}

function nearestOf(objs: Obj[], ctx: QuestionContext, key: TemplateKey, answer: (o: Obj) => string): QA | null {
  const cands = describable(objs).filter((t) => clearNearest(objs, t) !== null);
  const t = pickTarget(cands, ctx);
  return t ? makeQA(key, { a: describe(t) }, answer(clearNearest(objs, t)!)) : null;
}

const comparison: Record<string, Gen> = {
  "largest-colour": (objs) => extreme(objs, 1, "comparison/largest-colour", (o) => o.colour),
  "largest-shape": (objs) => extreme(objs, 1, "comparison/largest-shape", (o) => o.shape),
  "smallest-colour": (objs) => extreme(objs, -1, "comparison/smallest-colour", (o) => o.colour),
  "smallest-shape": (objs) => extreme(objs, -1, "comparison/smallest-shape", (o) => o.shape),
  larger: (objs, ctx) => {
    const pairs = pairsOf(describable(objs)).filter(([a, b]) => sizeRank(a) > sizeRank(b));
    const p = pickTarget(pairs, ctx);
    if (!p) return null;
    const yes = ctx.rng.bool();
    const [a, b] = yes ? p : [p[1], p[0]];
    return makeQA("comparison/larger", { a: describe(a), b: describe(b) }, yes ? "yes" : "no");
  },
};

function extreme(objs: Obj[], dir: 1 | -1, key: TemplateKey, answer: (o: Obj) => string): QA | null {
  const o = uniqueExtremeSize(objs, dir);
  return o ? makeQA(key, {}, answer(o)) : null;
}

const twoHop: Record<string, Gen> = {
  "nearest-largest-colour": (objs) => {
    const l = uniqueExtremeSize(objs, 1), n = l && clearNearest(objs, l);
    return n ? makeQA("two-hop/nearest-largest-colour", {}, n.colour) : null;
  },
  "nearest-smallest-shape": (objs) => {
    const s = uniqueExtremeSize(objs, -1), n = s && clearNearest(objs, s);
    return n ? makeQA("two-hop/nearest-smallest-shape", {}, n.shape) : null;
  },
  "largest-of-shape": (objs, ctx) => {
    const shapes = [...new Set(objs.map((o) => o.shape))].filter(
      (s) => uniqueExtremeSize(objs.filter((o) => o.shape === s), 1) !== null,
    );
    if (shapes.length === 0) return null;
    const s = ctx.rng.pick(shapes);
    const o = uniqueExtremeSize(objs.filter((p) => p.shape === s), 1)!;
    return makeQA("two-hop/largest-of-shape", { shape: s }, o.colour);
  },
  "leftmost-of-colour": (objs, ctx) => {
    const leftmost = (c: Colour): Obj | null => {
      const xs = objs.filter((o) => o.colour === c).sort((a, b) => a.x - b.x);
      return xs.length >= 2 && xs[1].x - xs[0].x >= MARGINS.axis ? xs[0] : null;
    };
    const colours = [...new Set(objs.map((o) => o.colour))].filter((c) => leftmost(c) !== null);
    if (colours.length === 0) return null;
    const c = ctx.rng.pick(colours);
    return makeQA("two-hop/leftmost-of-colour", { colour: c }, leftmost(c)!.shape);
  },
};

const GENERATORS: Record<ImageQuestionType, Record<string, Gen>> = {
  attribute,
  existence,
  count,
  relation,
  comparison,
  "two-hop": twoHop,
};

/**
 * Subtypes tried first less often (default weight 1). The yes/no subtypes almost always apply, so
 * they would also absorb every failed attempt of the others and push yes/no above their share.
 */
const SUBTYPE_WEIGHT: Record<string, number> = { larger: 0.35, "left-of": 0.6, above: 0.6 };

/** Names in a random order where each next name is drawn with probability proportional to its weight. */
export function weightedOrder(rng: Rng, names: string[], weight: Record<string, number>): string[] {
  const left = names.slice(), out: string[] = [];
  while (left.length > 0) out.push(left.splice(rng.weighted(left.map((n) => weight[n] ?? 1)), 1)[0]);
  return out;
}

/** A question of `type` about `scene`, trying its subtypes in random order; null if none applies. */
export function imageQuestion(type: ImageQuestionType, objs: Obj[], ctx: QuestionContext): QA | null {
  for (const name of weightedOrder(ctx.rng, Object.keys(GENERATORS[type]), SUBTYPE_WEIGHT)) {
    const qa = GENERATORS[type][name](objs, ctx);
    if (qa) return qa;
  }
  return null;
}

/** Convenience for a whole image scene. */
export function sceneQuestion(type: ImageQuestionType, scene: Scene, ctx: QuestionContext): QA | null {
  return imageQuestion(type, scene.objects, ctx);
}
