// ShapesVideoQA clips: objects that appear, move in a straight line and disappear, over 8-16 frames.
//
// A `VideoScene` holds, per object, its attributes, the frame interval [start, end) in which it is
// visible and a linear trajectory (x0 + vx * f, y0 + vy * f) in image fractions per frame. Movers go
// mostly along one axis (left/right/up/down, with a little sideways drift) and travel far enough that
// the direction is obvious; objects never overlap in any frame, so every frame is as readable as a
// ShapesQA image. `frameScene(v, f)` turns frame f into an ordinary `Scene` for the renderer.
// Not here: questions (video-questions.ts), pixels (render.ts).

import { DIRECTIONS, type Direction } from "./attributes.js";
import {
  OBJECT_GAP,
  objectRadius,
  sampleAttributes,
  sampleBackground,
  shrinkLargest,
  type Attrs,
  type Background,
  type Scene,
  type SceneObject,
  type SceneSpec,
} from "./scene.js";
import type { Rng } from "../random.js";

export interface VideoObject extends Attrs {
  r: number;
  angle: number;
  /** Position at frame 0 of the linear trajectory (only frames in [start, end) are shown). */
  x0: number;
  y0: number;
  /** Velocity in image fractions per frame; zero for static objects. */
  vx: number;
  vy: number;
  /** Visible in frames start <= f < end (0-based). end == frames means it never disappears. */
  start: number;
  end: number;
}

export interface VideoScene {
  frames: number;
  objects: VideoObject[];
  background: Background;
}

export interface VideoSpec extends Pick<SceneSpec, "sizeScale" | "angleJitter" | "clutter" | "allowed"> {
  frames: number;
  nObjects: number;
  /** How many objects move (the rest stay still). */
  nMoving: number;
  /** How many objects disappear before the last frame. */
  nDisappear: number;
}

/** Speed range of movers, image fractions per frame. */
export const SPEED = [0.025, 0.045] as const;
/** Movers and disappearing objects stay visible at least this many frames. */
export const MIN_VISIBLE = 5;

/** The visible objects of frame f (0-based) with their positions at that frame. */
export function objectsAtFrame(v: VideoScene, f: number): SceneObject[] {
  return v.objects
    .filter((o) => o.start <= f && f < o.end)
    .map((o) => ({ shape: o.shape, colour: o.colour, size: o.size, r: o.r, angle: o.angle, ...positionAt(o, f) }));
}

export function positionAt(o: VideoObject, f: number): { x: number; y: number } {
  return { x: o.x0 + o.vx * f, y: o.y0 + o.vy * f };
}

export function frameScene(v: VideoScene, f: number): Scene {
  return { objects: objectsAtFrame(v, f), background: v.background };
}

/** Net motion over the visible interval, as the direction of the dominant axis (null if static). */
export function directionOf(o: VideoObject): Direction | null {
  if (o.vx === 0 && o.vy === 0) return null;
  if (Math.abs(o.vx) >= Math.abs(o.vy)) return o.vx < 0 ? "left" : "right";
  return o.vy < 0 ? "up" : "down";
}

export function sampleVideo(rng: Rng, spec: VideoSpec): VideoScene {
  const { frames: T, nObjects: N } = spec;
  if (T < 8 || T > 16) throw new Error(`video frames ${T} outside 8..16`);
  if (spec.nMoving > N || spec.nDisappear > N) throw new Error(`nMoving/nDisappear > nObjects ${N}`);
  const attrs = sampleAttributes(rng, spec);
  const moving = new Set(rng.sample([...attrs.keys()], spec.nMoving));
  const leaving = new Set(rng.sample([...attrs.keys()], spec.nDisappear));
  const intervals = sampleIntervals(rng, T, N, leaving);
  for (let attempt = 0; ; attempt++) {
    const objects = placeTrajectories(rng, attrs, intervals, moving, spec);
    if (objects) return { frames: T, objects: rng.shuffled(objects), background: sampleBackground(rng, spec.clutter) };
    if (attempt > 20) throw new Error(`cannot place ${N} moving objects in ${T} frames`);
    shrinkLargest(attrs);
  }
}

/** Starts spread over the first half (distinct when possible, so "first"/"last" are well defined). */
function sampleIntervals(rng: Rng, T: number, N: number, leaving: Set<number>): [number, number][] {
  const used = new Set<number>();
  const out: [number, number][] = [];
  for (let i = 0; i < N; i++) {
    const hi = leaving.has(i) ? T - 1 - MIN_VISIBLE : Math.min(Math.floor(T / 2), T - MIN_VISIBLE);
    const free = [...Array(hi + 1).keys()].filter((s) => !used.has(s));
    const start = free.length > 0 ? rng.pick(free) : rng.range(0, hi);
    used.add(start);
    const end = leaving.has(i) ? rng.range(start + MIN_VISIBLE, T - 1) : T;
    out.push([start, end]);
  }
  return out;
}

function placeTrajectories(
  rng: Rng,
  attrs: Attrs[],
  intervals: [number, number][],
  moving: Set<number>,
  spec: VideoSpec,
): VideoObject[] | null {
  const placed: VideoObject[] = [];
  for (let i = 0; i < attrs.length; i++) {
    const r = objectRadius(attrs[i].size, spec.sizeScale);
    const [start, end] = intervals[i];
    let ok = false;
    for (let tries = 0; tries < 300 && !ok; tries++) {
      const o = trajectory(rng, attrs[i], r, start, end, moving.has(i), spec);
      if (o && placed.every((p) => apartAllFrames(o, p))) {
        placed.push(o);
        ok = true;
      }
    }
    if (!ok) return null;
  }
  return placed;
}

function trajectory(
  rng: Rng,
  a: Attrs,
  r: number,
  start: number,
  end: number,
  moves: boolean,
  spec: VideoSpec,
): VideoObject | null {
  const lo = r + OBJECT_GAP, hi = 1 - r - OBJECT_GAP;
  const steps = end - 1 - start;
  let vx = 0, vy = 0;
  if (moves) {
    const dir = rng.pick(DIRECTIONS);
    // Cap the speed so the whole path fits inside the image.
    const speed = Math.min(rng.uniform(SPEED[0], SPEED[1]), (hi - lo) / steps);
    if (speed * steps < 0.15) return null; // too short to read the direction; resample
    const drift = rng.uniform(-0.2, 0.2) * speed;
    const along = dir === "left" || dir === "up" ? -speed : speed;
    [vx, vy] = dir === "left" || dir === "right" ? [along, drift] : [drift, along];
  }
  // Start point such that the start and end points (hence the whole segment) lie in [lo, hi].
  const xs = fitRange(lo, hi, vx * steps), ys = fitRange(lo, hi, vy * steps);
  if (!xs || !ys) return null;
  const sx = rng.uniform(xs[0], xs[1]), sy = rng.uniform(ys[0], ys[1]);
  const angle = spec.angleJitter > 0 ? rng.uniform(-spec.angleJitter, spec.angleJitter) : 0;
  return { ...a, r, angle, x0: sx - vx * start, y0: sy - vy * start, vx, vy, start, end };
}

/** Range of s with s and s + d both in [lo, hi]. */
function fitRange(lo: number, hi: number, d: number): [number, number] | null {
  const a = Math.max(lo, lo - d), b = Math.min(hi, hi - d);
  return a <= b ? [a, b] : null;
}

/** No overlap (plus the usual gap) in any frame where both are visible. */
function apartAllFrames(a: VideoObject, b: VideoObject): boolean {
  const from = Math.max(a.start, b.start), to = Math.min(a.end, b.end);
  for (let f = from; f < to; f++) {
    const pa = positionAt(a, f), pb = positionAt(b, f);
    if (Math.hypot(pa.x - pb.x, pa.y - pb.y) < a.r + b.r + OBJECT_GAP) return false;
  }
  return true;
}
