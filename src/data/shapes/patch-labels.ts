// Dense per-patch labels of a scene for pretraining the vision tower (the project's stand-in for
// CLIP): for each cell of a G x G grid, the object that covers most of the cell (the topmost where
// objects overlap), as colour, shape and size classes, the grid column and row of that object's
// centre, and whether the centre lies in this cell, with class 0 = background. The object-level
// labels (centre column/row, centre cell) let every patch of an object say where the whole object is
// and let one patch per object stand for it, which counting and spatial questions need. Coverage is
// sampled on a 4 x 4 grid of points per cell using the renderer's own shape SDFs, so the labels
// describe exactly what is drawn.
import { COLOURS, SHAPES, SIZES } from "./attributes.js";
import { SHAPE_SDF } from "./render.js";
import type { Scene } from "./scene.js";

export interface PatchLabels {
  /** (G*G) 0 = background, else 1 + index in COLOURS / SHAPES / SIZES. */
  colour: Int32Array;
  shape: Int32Array;
  size: Int32Array;
  /** (G*G) 0 = background, else 1 + the grid column / row of the covering object's centre. */
  col: Int32Array;
  row: Int32Array;
  /** (G*G) 1 where some object's centre lies in this cell (occluded or not: one cell per object), else 0. */
  centre: Int32Array;
}

export const PATCH_CLASSES = { colour: COLOURS.length + 1, shape: SHAPES.length + 1, size: SIZES.length + 1 } as const;

/** Classes of every label of a G x G grid, by label name. */
export function patchClasses(G: number): Record<keyof PatchLabels, number> {
  return { ...PATCH_CLASSES, col: G + 1, row: G + 1, centre: 2 };
}

const cell = (f: number, G: number): number => Math.min(G - 1, Math.max(0, Math.floor(f * G)));

const SUB = 4; // sample points per cell side

/** Labels for a G x G grid over a square image (objects' geometry is resolution-free). */
export function patchLabels(scene: Scene, G: number): PatchLabels {
  const n = G * G;
  const out: PatchLabels = {
    colour: new Int32Array(n), shape: new Int32Array(n), size: new Int32Array(n),
    col: new Int32Array(n), row: new Int32Array(n), centre: new Int32Array(n),
  };
  const votes = new Int32Array(scene.objects.length);
  for (let gy = 0; gy < G; gy++) for (let gx = 0; gx < G; gx++) {
    votes.fill(0);
    let covered = 0;
    for (let sy = 0; sy < SUB; sy++) for (let sx = 0; sx < SUB; sx++) {
      const x = (gx + (sx + 0.5) / SUB) / G, y = (gy + (sy + 0.5) / SUB) / G;
      const top = topObjectAt(scene, x, y);
      if (top >= 0) { votes[top]++; covered++; }
    }
    if (covered * 4 < SUB * SUB) continue; // under a quarter covered: background
    let best = 0;
    for (let i = 1; i < votes.length; i++) if (votes[i] > votes[best]) best = i;
    const o = scene.objects[best];
    const c = gy * G + gx;
    out.colour[c] = 1 + COLOURS.indexOf(o.colour);
    out.shape[c] = 1 + SHAPES.indexOf(o.shape);
    out.size[c] = 1 + SIZES.indexOf(o.size);
    out.col[c] = 1 + cell(o.x, G);
    out.row[c] = 1 + cell(o.y, G);
  }
  for (const o of scene.objects) out.centre[cell(o.y, G) * G + cell(o.x, G)] = 1;
  return out;
}

/** Index of the topmost object whose shape contains (x, y) (image fractions), or -1. */
function topObjectAt(scene: Scene, x: number, y: number): number {
  for (let i = scene.objects.length - 1; i >= 0; i--) {
    const o = scene.objects[i];
    const dx = (x - o.x) / o.r, dy = (y - o.y) / o.r; // square images: one scale for both axes
    if (dx * dx + dy * dy > 1.2) continue;
    const cos = Math.cos(o.angle), sin = Math.sin(o.angle);
    if (SHAPE_SDF[o.shape](cos * dx + sin * dy, -sin * dx + cos * dy) <= 0) return i;
  }
  return -1;
}
