// Anti-aliased rasteriser for ShapesQA scenes, pure TypeScript, deterministic.
//
// Each shape is a signed distance function (SDF) in object-local units (bounding radius 1, y down).
// Per pixel, coverage = clamp(0.5 - d, 0, 1) with d the distance in pixels from the pixel centre to the
// boundary: a one-pixel box filter across the edge, exact for straight edges and close for curves.
// Only pixels inside each object's bounding box are visited, so cost grows with object area, not
// with the number of objects times the image.
//
// Output: RGB, HWC, into a caller-provided Uint8Array (0..255) or Float32Array (0..1).
// Not here: scene sampling (scene.ts), PNG files (../image-io.ts), text (../contact-sheet.ts).
// Reference: Inigo Quilez, "2D distance functions" (polygon, box, segment SDFs).

import { COLOUR_RGB, type Shape } from "./attributes.js";
import type { Background, Scene, SceneObject } from "./scene.js";
import { Rng } from "../random.js";

type Sdf = (x: number, y: number) => number;

/** Sign-aware distance to a closed polygon (vertices in order). */
function polygonSdf(vx: readonly number[], vy: readonly number[]): Sdf {
  const n = vx.length;
  return (px, py) => {
    let d = (px - vx[0]) ** 2 + (py - vy[0]) ** 2;
    let s = 1;
    for (let i = 0, j = n - 1; i < n; j = i, i++) {
      const ex = vx[j] - vx[i], ey = vy[j] - vy[i];
      const wx = px - vx[i], wy = py - vy[i];
      const t = Math.min(1, Math.max(0, (wx * ex + wy * ey) / (ex * ex + ey * ey)));
      const bx = wx - ex * t, by = wy - ey * t;
      d = Math.min(d, bx * bx + by * by);
      const c1 = py >= vy[i], c2 = py < vy[j], c3 = ex * wy > ey * wx;
      if ((c1 && c2 && c3) || (!c1 && !c2 && !c3)) s = -s;
    }
    return s * Math.sqrt(d);
  };
}

function boxSdf(hx: number, hy: number): Sdf {
  return (px, py) => {
    const qx = Math.abs(px) - hx, qy = Math.abs(py) - hy;
    return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0);
  };
}

function regularStar(points: number, outer: number, inner: number): [number[], number[]] {
  const vx: number[] = [], vy: number[] = [];
  for (let k = 0; k < 2 * points; k++) {
    const a = -Math.PI / 2 + (k * Math.PI) / points; // first tip points up (-y)
    const rad = k % 2 === 0 ? outer : inner;
    vx.push(rad * Math.cos(a));
    vy.push(rad * Math.sin(a));
  }
  return [vx, vy];
}

const TRIANGLE = polygonSdf([0, 0.85, -0.85], [-0.96, 0.52, 0.52]);
const STAR = polygonSdf(...regularStar(5, 1, 0.44));
const SQUARE = boxSdf(0.7, 0.7);
const CROSS_H = boxSdf(0.95, 0.3), CROSS_V = boxSdf(0.3, 0.95);
const HEART_BOTTOM = polygonSdf([-0.86, 0.86, 0], [-0.2, -0.2, 0.92]);

/** SDFs in object-local units: every shape fits in the unit circle (its bounding radius). */
export const SHAPE_SDF: Record<Shape, Sdf> = {
  circle: (x, y) => Math.hypot(x, y) - 0.82,
  square: SQUARE,
  triangle: TRIANGLE,
  cross: (x, y) => Math.min(CROSS_H(x, y), CROSS_V(x, y)),
  star: STAR,
  ring: (x, y) => Math.abs(Math.hypot(x, y) - 0.67) - 0.23,
  // |x| + |y| <= 0.98, scaled to a true distance on the edges.
  diamond: (x, y) => (Math.abs(x) + Math.abs(y) - 0.98) * Math.SQRT1_2,
  heart: (x, y) =>
    Math.min(Math.hypot(x - 0.43, y + 0.3) - 0.46, Math.hypot(x + 0.43, y + 0.3) - 0.46, HEART_BOTTOM(x, y)),
};

/** Render `scene` at width x height into `out` (HWC RGB; Uint8Array 0..255 or Float32Array 0..1). */
export function renderScene<T extends Uint8Array | Float32Array>(
  scene: Scene,
  width: number,
  height: number,
  out: T,
): T {
  if (out.length !== width * height * 3)
    throw new Error(`render buffer has ${out.length} values, expected ${width}x${height}x3=${width * height * 3}`);
  const canvas = new Float32Array(width * height * 3);
  paintBackground(canvas, width, height, scene.background);
  for (const o of scene.objects) paintObject(canvas, width, height, o);
  if (out instanceof Float32Array) {
    for (let i = 0; i < canvas.length; i++) out[i] = Math.min(1, Math.max(0, canvas[i]));
  } else {
    for (let i = 0; i < canvas.length; i++) out[i] = Math.round(255 * Math.min(1, Math.max(0, canvas[i])));
  }
  return out;
}

/** Convenience: a fresh Uint8Array HWC RGB image. */
export function renderSceneRgb(scene: Scene, width: number, height = width): Uint8Array {
  return renderScene(scene, width, height, new Uint8Array(width * height * 3));
}

function paintObject(canvas: Float32Array, W: number, H: number, o: SceneObject): void {
  const scale = o.r * Math.min(W, H); // pixels per local unit
  const cx = o.x * W, cy = o.y * H;
  const sdf = SHAPE_SDF[o.shape];
  const cos = Math.cos(o.angle), sin = Math.sin(o.angle);
  const [cr, cg, cb] = COLOUR_RGB[o.colour];
  const x0 = Math.max(0, Math.floor(cx - scale - 1)), x1 = Math.min(W - 1, Math.ceil(cx + scale + 1));
  const y0 = Math.max(0, Math.floor(cy - scale - 1)), y1 = Math.min(H - 1, Math.ceil(cy + scale + 1));
  for (let py = y0; py <= y1; py++) {
    for (let px = x0; px <= x1; px++) {
      // Pixel centre in local units, rotated by -angle.
      const dx = (px + 0.5 - cx) / scale, dy = (py + 0.5 - cy) / scale;
      const lx = cos * dx + sin * dy, ly = -sin * dx + cos * dy;
      const a = 0.5 - sdf(lx, ly) * scale; // distance in pixels -> coverage
      if (a <= 0) continue;
      const cov = a >= 1 ? 1 : a;
      const i = (py * W + px) * 3;
      canvas[i] += (cr - canvas[i]) * cov;
      canvas[i + 1] += (cg - canvas[i + 1]) * cov;
      canvas[i + 2] += (cb - canvas[i + 2]) * cov;
    }
  }
}

function paintBackground(canvas: Float32Array, W: number, H: number, bg: Background): void {
  const rng = Rng.from(bg.seed, 0x6267); // "bg"
  for (let y = 0; y < H; y++) {
    const base = bg.grey + bg.gradient * (2 * (y + 0.5) / H - 1);
    for (let x = 0; x < W; x++) {
      const v = bg.noise > 0 ? base + bg.noise * rng.noise() : base;
      const i = (y * W + x) * 3;
      canvas[i] = canvas[i + 1] = canvas[i + 2] = v;
    }
  }
  for (let k = 0; k < bg.strokes; k++) paintStroke(canvas, W, H, rng);
}

/** A thin, low-contrast grey line segment: clutter that is not an object. */
function paintStroke(canvas: Float32Array, W: number, H: number, rng: Rng): void {
  const ax = rng.float() * W, ay = rng.float() * H;
  const len = rng.uniform(0.1, 0.3) * Math.min(W, H), ang = rng.uniform(0, Math.PI);
  const bx = ax + len * Math.cos(ang), by = ay + len * Math.sin(ang);
  const half = Math.max(0.5, 0.004 * Math.min(W, H)), grey = rng.uniform(0.3, 0.42);
  const x0 = Math.max(0, Math.floor(Math.min(ax, bx) - 2)), x1 = Math.min(W - 1, Math.ceil(Math.max(ax, bx) + 2));
  const y0 = Math.max(0, Math.floor(Math.min(ay, by) - 2)), y1 = Math.min(H - 1, Math.ceil(Math.max(ay, by) + 2));
  const ex = bx - ax, ey = by - ay, ee = ex * ex + ey * ey;
  for (let py = y0; py <= y1; py++) {
    for (let px = x0; px <= x1; px++) {
      const wx = px + 0.5 - ax, wy = py + 0.5 - ay;
      const t = Math.min(1, Math.max(0, (wx * ex + wy * ey) / ee));
      const d = Math.hypot(wx - ex * t, wy - ey * t) - half;
      const cov = Math.min(1, Math.max(0, 0.5 - d));
      if (cov <= 0) continue;
      const i = (py * W + px) * 3;
      for (let c = 0; c < 3; c++) canvas[i + c] += (grey - canvas[i + c]) * cov;
    }
  }
}
