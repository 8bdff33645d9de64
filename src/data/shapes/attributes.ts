// The closed vocabularies of ShapesQA: shapes, colours, sizes, regions, directions, numbers.
//
// Everything the generator can say is built from these tables (and the templates in templates.ts), so
// the word-level vocabulary (src/data/vocab.ts) is derived from them and never drifts from the data.
// Not here: sampling (scene.ts), geometry of the shapes (render.ts).

export const SHAPES = ["circle", "square", "triangle", "cross", "star", "ring", "diamond", "heart"] as const;
export type Shape = (typeof SHAPES)[number];

/** Plural forms used in "how many circles ...". */
export const SHAPE_PLURALS: Record<Shape, string> = {
  circle: "circles",
  square: "squares",
  triangle: "triangles",
  cross: "crosses",
  star: "stars",
  ring: "rings",
  diamond: "diamonds",
  heart: "hearts",
};

export const COLOURS = ["red", "orange", "yellow", "green", "cyan", "blue", "purple", "white"] as const;
export type Colour = (typeof COLOURS)[number];

/** sRGB in [0, 1]. Chosen far apart in hue/lightness and far from the grey background. */
export const COLOUR_RGB: Record<Colour, readonly [number, number, number]> = {
  red: [0.86, 0.12, 0.12],
  orange: [0.98, 0.55, 0.08],
  yellow: [0.95, 0.9, 0.15],
  green: [0.15, 0.7, 0.2],
  cyan: [0.15, 0.85, 0.9],
  blue: [0.18, 0.3, 0.95],
  purple: [0.6, 0.2, 0.8],
  white: [0.96, 0.96, 0.96],
};

export const SIZES = ["small", "medium", "large"] as const;
export type Size = (typeof SIZES)[number];

/**
 * Bounding radius per size class, as a fraction of the image side (before the difficulty scale).
 * Consecutive classes differ by ~1.6x in length (~2.5x in area). Shapes fill their bounding circle
 * unequally (a star or triangle covers ~0.6 of a square's area), so the class gap is kept well above
 * that ratio: a large star still looks larger than a medium square.
 */
export const SIZE_RADIUS: Record<Size, number> = { small: 0.05, medium: 0.08, large: 0.125 };

/**
 * The 3x3 grid of named regions, row-major from the top left. A point (x, y) in [0,1]^2 (y down) is in
 * region `REGIONS[3 * row + col]` with col = floor(3x), row = floor(3y).
 */
export const REGIONS = [
  "top left",
  "top middle",
  "top right",
  "middle left",
  "center",
  "middle right",
  "bottom left",
  "bottom middle",
  "bottom right",
] as const;
export type Region = (typeof REGIONS)[number];

/** Directions of motion in video questions (image y grows downwards, so "up" is -y). */
export const DIRECTIONS = ["left", "right", "up", "down"] as const;
export type Direction = (typeof DIRECTIONS)[number];

/** Spatial relations answered by "where is A relative to B?". */
export const RELATIONS = ["left", "right", "above", "below"] as const;
export type Relation = (typeof RELATIONS)[number];

export const YES_NO = ["yes", "no"] as const;

/** Numbers are written as digits everywhere (answers and frame numbers); this bounds them. */
export const MAX_NUMBER = 16;

export function numberWord(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > MAX_NUMBER) throw new Error(`number ${n} outside 0..${MAX_NUMBER}`);
  return String(n);
}

/** Index of the region holding point (x, y), both in [0, 1). */
export function regionIndex(x: number, y: number): number {
  const col = Math.min(2, Math.max(0, Math.floor(x * 3)));
  const row = Math.min(2, Math.max(0, Math.floor(y * 3)));
  return row * 3 + col;
}

/** Distance from (x, y) to the nearest border of region `r` (negative if outside). */
export function regionMargin(r: number, x: number, y: number): number {
  const col = r % 3, row = Math.floor(r / 3);
  const x0 = col / 3, y0 = row / 3;
  return Math.min(x - x0, x0 + 1 / 3 - x, y - y0, y0 + 1 / 3 - y);
}
