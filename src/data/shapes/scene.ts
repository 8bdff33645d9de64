// ShapesQA scenes: the plain-data description of one image and the sampler that builds it.
//
// A `Scene` is everything needed to render the image and to answer any question about it: objects
// with shape, colour, size class and continuous geometry (centre and bounding radius as fractions of
// the image, y pointing down), in drawing order, plus a background description. It is JSON-safe, so
// tests (and test/data/checker.ts) recompute answers from it without the generator's code.
//
// The sampler takes a `SceneSpec`: object count, size scale, occlusion, which (shape, colour) pairs are
// allowed (the held-out rule), an optional count plan ("exactly n red objects", so count answers are
// chosen before the scene is drawn) and an optional unique largest/smallest object.
// Not here: pixels (render.ts), questions (questions.ts), motion (video.ts).

import { COLOURS, SHAPES, SIZES, SIZE_RADIUS, type Colour, type Shape, type Size } from "./attributes.js";
import type { Rng } from "../random.js";

export interface SceneObject {
  shape: Shape;
  colour: Colour;
  size: Size;
  /** Centre, as fractions of the image width and height; y grows downwards. */
  x: number;
  y: number;
  /** Bounding radius as a fraction of min(width, height); every shape fits inside this circle. */
  r: number;
  /** Rotation in radians (small jitter; shapes stay upright enough to be named). */
  angle: number;
}

export interface Background {
  /** Grey level of the canvas in [0, 1]. */
  grey: number;
  /** Vertical gradient added to the grey level, from -gradient at the top to +gradient at the bottom. */
  gradient: number;
  /** Standard deviation of per-pixel noise. */
  noise: number;
  /** Number of thin grey distractor strokes (clutter); they are not objects. */
  strokes: number;
  /** Seed of the noise and strokes, so a scene re-renders identically. */
  seed: number;
}

export interface Scene {
  /** Drawing order: later objects are drawn on top of earlier ones. */
  objects: SceneObject[];
  background: Background;
}

export type CountAttr = "colour" | "shape";

/** "Exactly n objects have attribute `attr` equal to `value`." */
export interface CountPlan {
  attr: CountAttr;
  value: string;
  n: number;
}

export interface SceneSpec {
  nObjects: number;
  /** Multiplies every bounding radius (the difficulty's size knob). */
  sizeScale: number;
  /** Allow partial overlaps (at most OCCLUSION_OVERLAP of the smaller radius). */
  occlusion: boolean;
  /** Maximum absolute rotation in radians. */
  angleJitter: number;
  /** 0 = clean background, 1 = noisy background with distractor strokes. */
  clutter: number;
  /** Whether a (shape, colour) pair may be sampled (the split's combination rule). */
  allowed: (shape: Shape, colour: Colour) => boolean;
  countPlan?: CountPlan;
  /** Make exactly one object the largest (1) or the smallest (-1) size class, for comparison questions. */
  extremeSize?: 1 | -1;
}

/** Gap kept between non-overlapping objects and between objects and the image border. */
export const OBJECT_GAP = 0.02;
/** With occlusion, bounding circles may overlap by this fraction of the smaller radius. */
export const OCCLUSION_OVERLAP = 0.3;

export function objectRadius(size: Size, sizeScale: number): number {
  return SIZE_RADIUS[size] * sizeScale;
}

/** Sample a scene; throws only on an impossible spec (e.g. a count plan above nObjects). */
export function sampleScene(rng: Rng, spec: SceneSpec): Scene {
  const attrs = sampleAttributes(rng, spec);
  for (let attempt = 0; ; attempt++) {
    const placed = placeObjects(rng, attrs, spec);
    if (placed) return { objects: rng.shuffled(placed), background: sampleBackground(rng, spec.clutter) };
    // Crowded layout: shrink the largest objects one class and try again (rare; only at 7-8 objects).
    if (attempt > 20) throw new Error(`cannot place ${attrs.length} objects at size scale ${spec.sizeScale}`);
    shrinkLargest(attrs);
  }
}

export function sampleBackground(rng: Rng, clutter: number): Background {
  return {
    grey: 0.2 + clutter * rng.uniform(-0.06, 0.06),
    gradient: clutter * rng.uniform(-0.06, 0.06),
    noise: 0.035 * clutter,
    strokes: Math.round(6 * clutter * rng.float()),
    seed: rng.u32(),
  };
}

export interface Attrs {
  shape: Shape;
  colour: Colour;
  size: Size;
}

/** Shapes, colours and sizes of spec.nObjects objects, honouring the combination rule and count plan. */
export function sampleAttributes(
  rng: Rng,
  spec: Pick<SceneSpec, "nObjects" | "allowed" | "countPlan" | "extremeSize">,
): Attrs[] {
  const plan = spec.countPlan;
  const out: Attrs[] = [];
  let need = plan ? plan.n : 0; // how many more objects must match the count plan
  if (plan && (need < 0 || need > spec.nObjects))
    throw new Error(`count plan ${plan.attr}=${plan.value} n=${plan.n} impossible with ${spec.nObjects} objects`);
  while (out.length < spec.nObjects) {
    const mode = !plan ? "free" : need > 0 ? "match" : "avoid";
    out.push({ ...samplePair(rng, spec.allowed, plan, mode), size: rng.pick(SIZES) });
    if (mode === "match") need--;
  }
  if (spec.extremeSize && out.length >= 2) {
    const top = spec.extremeSize === 1 ? "large" : "small";
    const rest = SIZES.filter((z) => z !== top);
    const pick = rng.int(out.length);
    out.forEach((o, i) => (o.size = i === pick ? top : o.size === top ? rng.pick(rest) : o.size));
  }
  return out;
}

/** A (shape, colour) pair: matching the plan's attribute value, avoiding it, or free. */
function samplePair(
  rng: Rng,
  allowed: SceneSpec["allowed"],
  plan: CountPlan | undefined,
  mode: "free" | "match" | "avoid",
): { shape: Shape; colour: Colour } {
  const pairs: { shape: Shape; colour: Colour }[] = [];
  for (const shape of SHAPES)
    for (const colour of COLOURS) {
      if (!allowed(shape, colour)) continue;
      if (plan && mode !== "free") {
        const v = plan.attr === "colour" ? colour : shape;
        if ((v === plan.value) !== (mode === "match")) continue;
      }
      pairs.push({ shape, colour });
    }
  if (pairs.length === 0) throw new Error(`no allowed (shape, colour) pair for ${plan?.attr}=${plan?.value} ${mode}`);
  // Matching on a colour: pick the shape uniformly, so shapes stay balanced (and vice versa).
  if (plan && mode === "match") {
    const other = plan.attr === "colour" ? "shape" : "colour";
    const values = [...new Set(pairs.map((p) => p[other]))];
    const v = rng.pick(values);
    return rng.pick(pairs.filter((p) => p[other] === v));
  }
  const shape = rng.pick([...new Set(pairs.map((p) => p.shape))]);
  return rng.pick(pairs.filter((p) => p.shape === shape));
}

function placeObjects(rng: Rng, attrs: Attrs[], spec: SceneSpec): SceneObject[] | null {
  const order = attrs.map((a, i) => ({ a, r: objectRadius(a.size, spec.sizeScale), i }));
  order.sort((p, q) => q.r - p.r || p.i - q.i); // largest first packs better
  const placed: SceneObject[] = [];
  for (const { a, r } of order) {
    let ok = false;
    for (let tries = 0; tries < 300 && !ok; tries++) {
      const lo = r + OBJECT_GAP;
      const x = rng.uniform(lo, 1 - lo), y = rng.uniform(lo, 1 - lo);
      if (placed.every((o) => Math.hypot(o.x - x, o.y - y) >= minDistance(o.r, r, spec.occlusion))) {
        const angle = spec.angleJitter > 0 ? rng.uniform(-spec.angleJitter, spec.angleJitter) : 0;
        placed.push({ shape: a.shape, colour: a.colour, size: a.size, x, y, r, angle });
        ok = true;
      }
    }
    if (!ok) return null;
  }
  return placed;
}

/** Smallest allowed centre distance between two objects of bounding radii ra and rb. */
export function minDistance(ra: number, rb: number, occlusion: boolean): number {
  return occlusion ? ra + rb - OCCLUSION_OVERLAP * Math.min(ra, rb) : ra + rb + OBJECT_GAP;
}

/** Move every object of the largest present size class down one class (crowded layouts). */
export function shrinkLargest(attrs: Attrs[]): void {
  const rank = (s: Size) => SIZES.indexOf(s);
  const top = Math.max(...attrs.map((a) => rank(a.size)));
  if (top === 0) return;
  for (const a of attrs) if (rank(a.size) === top) a.size = SIZES[top - 1];
}
