import { describe, expect, test } from "vitest";
import { createHash } from "node:crypto";
import { makeExample, streamExamples, exampleId } from "../../src/data/stream.js";
import type { VideoScene } from "../../src/data/shapes/video.js";
import type { Scene } from "../../src/data/shapes/scene.js";
import { SHAPE_PLURALS } from "../../src/data/shapes/attributes.js";

const digest = (frames: Uint8Array[]) => {
  const h = createHash("sha256");
  for (const f of frames) h.update(f);
  return h.digest("hex");
};

describe("stream", () => {
  test("deterministic per seed, down to the pixels; a different seed gives different data", () => {
    for (const kind of ["image", "video"] as const) {
      const a = makeExample(kind, 17, { split: "train", size: 64 });
      const b = makeExample(kind, 17, { split: "train", size: 64 });
      expect(b.qa).toEqual(a.qa);
      expect(b.scene).toEqual(a.scene);
      expect(digest(b.frames)).toBe(digest(a.frames));
      const c = makeExample(kind, 17, { split: "train", size: 64, seed: 1 });
      expect(c.scene).not.toEqual(a.scene);
      expect(c.id).toBe(exampleId("train", kind, 17, 1));
    }
  });

  test("rendering does not change the questions; streaming equals random access", () => {
    const streamed = [...streamExamples("image", { split: "val", start: 5, count: 5, render: false })];
    streamed.forEach((ex, k) => {
      const direct = makeExample("image", 5 + k, { split: "val", size: 32 });
      expect(direct.qa).toEqual(ex.qa);
      expect(direct.id).toBe(ex.id);
      expect(direct.frames[0].length).toBe(32 * 32 * 3);
    });
  });

  test("perType: repeats types for more distinct questions, keeps yes/no balance; 1 is the default data", () => {
    let one = 0, three = 0, yes = 0, yesNo = 0;
    for (let i = 0; i < 300; i++) {
      const base = makeExample("image", i, { split: "train", questions: 12, render: false });
      expect(makeExample("image", i, { split: "train", questions: 12, perType: 1, render: false }).qa).toEqual(base.qa);
      const dense = makeExample("image", i, { split: "train", questions: 12, perType: 3, render: false });
      expect(dense.scene).toEqual(base.scene);
      expect(new Set(dense.qa.map((q) => q.question)).size).toBe(dense.qa.length);
      const perType = new Map<string, number>();
      for (const q of dense.qa) perType.set(q.type, (perType.get(q.type) ?? 0) + 1);
      for (const n of perType.values()) expect(n).toBeLessThanOrEqual(3);
      for (const q of dense.qa) if (q.type === "existence") { yesNo++; if (q.answer === "yes") yes++; }
      one += base.qa.length; three += dense.qa.length;
    }
    expect(one / 300).toBeLessThanOrEqual(6);
    expect(three / one).toBeGreaterThan(1.7);
    expect(yes / yesNo).toBeGreaterThan(0.42);
    expect(yes / yesNo).toBeLessThan(0.58);
    expect(() => makeExample("image", 0, { split: "train", perType: 0 })).toThrow(/perType/);
  });

  test("perTypeOf: one type asked more often than the others, each still distinct", () => {
    let existence = 0, others = 0;
    for (let i = 0; i < 200; i++) {
      const ex = makeExample("image", i, { split: "train", questions: 18, perType: 2, perTypeOf: { existence: 6 }, render: false });
      const n = new Map<string, number>();
      for (const q of ex.qa) n.set(q.type, (n.get(q.type) ?? 0) + 1);
      for (const [t, c] of n) expect(c, t).toBeLessThanOrEqual(t === "existence" ? 6 : 2);
      existence += n.get("existence") ?? 0;
      others += ex.qa.length - (n.get("existence") ?? 0);
      expect(new Set(ex.qa.map((q) => q.question)).size).toBe(ex.qa.length);
    }
    expect(existence / 200).toBeGreaterThan(4);
    expect(others / 200).toBeLessThanOrEqual(10);
    expect(() => makeExample("image", 0, { split: "train", perTypeOf: { count: 0 } })).toThrow(/perTypeOf.count/);
  });

  test("extraCounts: more count questions on the same scene, each answered with its true count", () => {
    const plural = new Map(Object.entries(SHAPE_PLURALS).map(([shape, p]) => [p, shape]));
    let extra = 0, nonzero = 0;
    for (let i = 0; i < 150; i++) {
      const opts = { split: "train" as const, questions: 12, perType: 12, types: ["count" as const], render: false };
      const plain = makeExample("image", i, opts);
      const ex = makeExample("image", i, { ...opts, extraCounts: true });
      expect(ex.scene).toEqual(plain.scene);
      expect(ex.qa[0]).toEqual(plain.qa[0]); // the planned question first, unchanged
      expect(plain.qa.length).toBe(1);
      expect(new Set(ex.qa.map((q) => q.question)).size).toBe(ex.qa.length);
      const objs = (ex.scene as Scene).objects;
      for (const q of ex.qa.slice(1)) {
        const m = /^how many (\w+) (objects )?are there\?$/.exec(q.question);
        expect(m, q.question).not.toBeNull();
        const word = m![1];
        const n = m![2] ? objs.filter((o) => o.colour === word).length : objs.filter((o) => o.shape === plural.get(word)).length;
        expect(q.answer, q.question).toBe(String(n));
        extra++;
        if (n > 0) nonzero++;
      }
    }
    expect(extra / 150).toBeGreaterThan(6);
    expect(nonzero / extra).toBeGreaterThan(0.4);
    // off by default
    expect(makeExample("image", 3, { split: "test" }).qa).toEqual(makeExample("image", 3, { split: "test", extraCounts: false }).qa);
  });

  test("video clips: 8-16 frames, objects appear, move and disappear", () => {
    let appear = 0, disappear = 0, move = 0;
    for (const ex of streamExamples("video", { split: "train", count: 200, render: false })) {
      const v = ex.scene as VideoScene;
      expect(v.frames).toBeGreaterThanOrEqual(8);
      expect(v.frames).toBeLessThanOrEqual(16);
      for (const o of v.objects) {
        if (o.start > 0) appear++;
        if (o.end < v.frames) disappear++;
        if (o.vx !== 0 || o.vy !== 0) move++;
      }
      expect(ex.conversations[0].value.startsWith("<image>\n")).toBe(true);
    }
    expect(Math.min(appear, disappear, move)).toBeGreaterThan(100);
    const rendered = makeExample("video", 3, { split: "test", size: 48 });
    expect(rendered.frames.length).toBe((rendered.scene as VideoScene).frames);
  });
});
