// Scene descriptions: the caption (reading order, regions) and the scene in words for text-only
// pretraining (drawing order, grid cells), both checked by hand on a two-object scene.
import { describe, expect, it } from "vitest";
import { captionOf, sceneText } from "../../src/data/shapes/caption.js";
import type { Scene } from "../../src/data/shapes/scene.js";

const scene: Scene = {
  objects: [
    { shape: "star", colour: "red", size: "large", x: 0.9, y: 0.95, r: 0.1, angle: 0 },
    { shape: "circle", colour: "blue", size: "small", x: 0.04, y: 0.5, r: 0.05, angle: 0 },
  ],
  background: { grey: 0.5, gradient: 0, noise: 0, strokes: 0, seed: 3 },
};

describe("scene descriptions", () => {
  it("captions list objects in reading order with their region", () => {
    expect(captionOf(scene)).toBe("small blue circle middle left , large red star bottom right");
  });

  it("the scene in words lists objects in drawing order with the grid cell of their centre", () => {
    // x 0.9 -> column floor(10.8) = 10, y 0.95 -> row 11; x 0.04 -> 0, y 0.5 -> 6
    expect(sceneText(scene)).toBe("large red star 10 11 , small blue circle 0 6");
    expect(sceneText(scene, 4)).toBe("large red star 3 3 , small blue circle 0 2");
    // a centre on the far edge stays in the last cell
    expect(sceneText({ ...scene, objects: [{ ...scene.objects[0], x: 1, y: 1 }] })).toBe("large red star 11 11");
  });
});
