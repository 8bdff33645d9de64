import { describe, expect, test } from "vitest";
import { COLOUR_RGB, SHAPES } from "../../src/data/shapes/attributes.js";
import { renderScene, renderSceneRgb } from "../../src/data/shapes/render.js";
import { sampleScene, type Scene } from "../../src/data/shapes/scene.js";
import { Rng } from "../../src/data/random.js";

const plain = { grey: 0.2, gradient: 0, noise: 0, strokes: 0, seed: 1 };
const one = (shape: (typeof SHAPES)[number], r = 0.4, x = 0.5, y = 0.5): Scene => ({
  objects: [{ shape, colour: "red", size: "large", x, y, r, angle: 0 }],
  background: plain,
});

describe("render", () => {
  test("deterministic, and Uint8 output is the rounded Float32 output", () => {
    const scene = sampleScene(Rng.from(3), {
      nObjects: 6, sizeScale: 1, occlusion: true, angleJitter: 0.3, clutter: 1, allowed: () => true,
    });
    const a = renderSceneRgb(scene, 96), b = renderSceneRgb(scene, 96);
    expect(a).toEqual(b);
    const f = renderScene(scene, 96, 96, new Float32Array(96 * 96 * 3));
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - 255 * f[i]));
    expect(maxDiff).toBeLessThanOrEqual(0.5001);
  });

  test("every shape stays inside its bounding circle, fills its centre, and has anti-aliased edges", () => {
    const S = 101, R = 0.4;
    for (const shape of SHAPES) {
      const img = renderSceneRgb(one(shape, R), S);
      let partial = 0;
      for (let y = 0; y < S; y++)
        for (let x = 0; x < S; x++) {
          const i = (y * S + x) * 3, red = img[i];
          const d = Math.hypot(x + 0.5 - S / 2, y + 0.5 - S / 2);
          if (d > R * S + 1) expect(red, `${shape} at ${x},${y}`).toBe(51); // background 0.2 * 255
          if (red > 51 && red < 219) partial++;
        }
      expect(partial, shape).toBeGreaterThan(20);
      // The ring has a hole; every other shape covers its centre.
      const c = ((S >> 1) * S + (S >> 1)) * 3;
      const centre = [img[c], img[c + 1], img[c + 2]];
      if (shape !== "ring") expect(centre).toEqual(COLOUR_RGB.red.map((v) => Math.round(255 * v)));
    }
  });

  test("a circle's covered area matches pi r^2 (coverage is area, not a hard threshold)", () => {
    const S = 64, r = 0.3, img = renderScene(one("circle", r), S, S, new Float32Array(S * S * 3));
    let area = 0;
    for (let i = 0; i < S * S; i++) area += (img[i * 3] - 0.2) / (COLOUR_RGB.red[0] - 0.2);
    const want = Math.PI * (0.82 * r * S) ** 2; // the circle's radius is 0.82 of the bounding radius
    expect(Math.abs(area - want) / want).toBeLessThan(0.01);
  });

  test("objects clipped at the image border and non-square images render", () => {
    const img = renderScene(one("star", 0.3, 0.02, 0.98), 40, 20, new Uint8Array(40 * 20 * 3));
    expect(img.some((v) => v > 100)).toBe(true);
    expect(() => renderScene(one("star"), 10, 10, new Uint8Array(10))).toThrow(/expected 10x10x3=300/);
  });
});
