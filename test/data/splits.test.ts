// Splits: disjoint seeds, the held-out combination rule in both directions, difficulty knobs.
import { describe, expect, test } from "vitest";
import { COLOURS, SHAPES, SHAPE_PLURALS } from "../../src/data/shapes/attributes.js";
import { DIFFICULTIES, HELDOUT_PAIRS, SPLITS, isHeldOutPair } from "../../src/data/splits.js";
import { streamExamples, type Example } from "../../src/data/stream.js";
import { collectStats } from "../../src/data/stats.js";
import type { Scene } from "../../src/data/shapes/scene.js";

/** (shape, colour) pairs present in the scene, and pairs named in the questions ("red circle(s)"). */
function pairs(ex: Example): { inScene: string[]; named: string[] } {
  const inScene = (ex.scene as Scene).objects.map((o) => `${o.colour} ${o.shape}`);
  const named: string[] = [];
  const plural = Object.fromEntries(Object.entries(SHAPE_PLURALS).map(([s, p]) => [p, s]));
  for (const qa of ex.qa) {
    const words = qa.question.replace("?", "").split(" ");
    for (let i = 0; i + 1 < words.length; i++) {
      const shape = (SHAPES as readonly string[]).includes(words[i + 1]) ? words[i + 1] : plural[words[i + 1]];
      if ((COLOURS as readonly string[]).includes(words[i]) && shape) named.push(`${words[i]} ${shape}`);
    }
  }
  return { inScene, named };
}

const heldout = new Set(HELDOUT_PAIRS.map((p) => `${p.colour} ${p.shape}`));

describe("splits", () => {
  test("held-out pairs: one per shape and one per colour", () => {
    expect(new Set(HELDOUT_PAIRS.map((p) => p.shape)).size).toBe(SHAPES.length);
    expect(new Set(HELDOUT_PAIRS.map((p) => p.colour)).size).toBe(COLOURS.length);
    expect(isHeldOutPair(HELDOUT_PAIRS[3].shape, HELDOUT_PAIRS[3].colour)).toBe(true);
  });

  test("train/val/test never show or name a held-out pair; heldout shows and names nothing else", () => {
    for (const kind of ["image", "video"] as const)
      for (const split of SPLITS) {
        const seen = new Set<string>();
        for (const ex of streamExamples(kind, { split, count: 400, render: false, difficulty: DIFFICULTIES.hard })) {
          const { inScene, named } = pairs(ex);
          for (const p of [...inScene, ...named]) {
            seen.add(p);
            expect(heldout.has(p), `${ex.id}: ${p}`).toBe(split === "heldout");
          }
        }
        // The rule is not satisfied vacuously: each split shows many distinct pairs.
        expect(seen.size, `${split} ${kind}`).toBeGreaterThanOrEqual(split === "heldout" ? 8 : 40);
      }
  });

  test("splits come from disjoint seeds: no scene is shared between splits", () => {
    const key = (ex: Example) => JSON.stringify(ex.scene);
    const seen = new Map<string, string>();
    for (const split of SPLITS)
      for (const ex of streamExamples("image", { split, count: 500, render: false })) {
        expect(seen.get(key(ex)), ex.id).toBeUndefined();
        seen.set(key(ex), ex.id);
      }
  });

  test("difficulty moves object count, size and clutter", () => {
    const stat = (name: keyof typeof DIFFICULTIES) => {
      const exs = [...streamExamples("image", { split: "train", count: 300, render: false, difficulty: DIFFICULTIES[name] })];
      const objs = exs.flatMap((e) => (e.scene as Scene).objects);
      return {
        counts: Object.keys(collectStats(exs).objects).map(Number),
        meanR: objs.reduce((s, o) => s + o.r, 0) / objs.length,
        noise: (exs[0].scene as Scene).background.noise,
        occluded: exs.some((e) => {
          const o = (e.scene as Scene).objects;
          return o.some((a, i) => o.some((b, j) => j > i && Math.hypot(a.x - b.x, a.y - b.y) < a.r + b.r));
        }),
      };
    };
    const easy = stat("easy"), medium = stat("medium"), hard = stat("hard");
    expect([Math.min(...easy.counts), Math.max(...easy.counts)]).toEqual([2, 4]);
    expect([Math.min(...medium.counts), Math.max(...medium.counts)]).toEqual([2, 8]);
    expect([Math.min(...hard.counts), Math.max(...hard.counts)]).toEqual([5, 8]);
    expect(easy.meanR).toBeGreaterThan(medium.meanR);
    expect(medium.meanR).toBeGreaterThan(hard.meanR);
    expect(easy.noise).toBe(0);
    expect(hard.noise).toBeGreaterThan(medium.noise);
    expect([easy.occluded, medium.occluded, hard.occluded]).toEqual([false, false, true]);
  });
});
