// Dense patch labels against hand-worked scenes: which cells an object covers, the cell of its centre,
// and the centre flag (also for an object whose centre cell another object covers).
import { describe, expect, it } from "vitest";
import { patchClasses, patchLabels } from "../../src/data/shapes/patch-labels.js";
import type { Scene, SceneObject } from "../../src/data/shapes/scene.js";

const bg = { grey: 0.2, gradient: 0, noise: 0, strokes: 0, seed: 1 };
const obj = (o: Partial<SceneObject>): SceneObject => ({ shape: "square", colour: "red", size: "large", x: 0.5, y: 0.5, r: 0.1, angle: 0, ...o });

describe("patch labels", () => {
  it("a square filling the middle cells of a 4x4 grid labels exactly those cells", () => {
    // a square of half-side r/sqrt(2)... whatever its exact inset, a square centred at (0.5, 0.5) with
    // bounding radius 0.3 covers the 4 middle cells of a 4x4 grid (each 0.25 wide) at least a quarter
    const scene: Scene = { objects: [obj({ x: 0.5, y: 0.5, r: 0.3, colour: "blue", shape: "square" })], background: bg };
    const l = patchLabels(scene, 4);
    const covered = [5, 6, 9, 10];
    for (let c = 0; c < 16; c++) {
      if (covered.includes(c)) {
        expect(l.colour[c]).toBe(1 + 5); // blue is COLOURS[5]
        expect(l.shape[c]).toBe(1 + 1); // square is SHAPES[1]
        expect(l.col[c]).toBe(1 + 2); // centre x 0.5 -> column floor(0.5 * 4) = 2
        expect(l.row[c]).toBe(1 + 2);
      } else {
        expect([l.colour[c], l.shape[c], l.col[c], l.row[c]]).toEqual([0, 0, 0, 0]);
      }
    }
    expect([...l.centre].flatMap((v, i) => (v ? [i] : []))).toEqual([2 * 4 + 2]);
  });

  it("every object marks its centre cell, even one drawn under another", () => {
    const under = obj({ x: 0.3, y: 0.3, r: 0.05, colour: "green" });
    const over = obj({ x: 0.32, y: 0.32, r: 0.12, colour: "white" }); // drawn later, covers the small one
    const far = obj({ x: 0.95, y: 0.15, r: 0.05, colour: "red" }); // in the middle of cell (9, 1)
    const l = patchLabels({ objects: [under, over, far], background: bg }, 10);
    expect([...l.centre].flatMap((v, i) => (v ? [i] : []))).toEqual([3 * 10 + 3, 1 * 10 + 9].sort((a, b) => a - b));
    expect(l.colour[3 * 10 + 3]).toBe(1 + 7); // the covering (white) object names the cell
    expect(l.col[1 * 10 + 9]).toBe(1 + 9);
    expect(l.row[1 * 10 + 9]).toBe(1 + 1);
  });

  it("class counts follow the grid", () => {
    expect(patchClasses(12)).toMatchObject({ col: 13, row: 13, centre: 2, colour: 9, shape: 9, size: 4 });
  });
});
