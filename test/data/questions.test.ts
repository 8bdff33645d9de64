// Every generated answer agrees with the independent checker, and no answer dominates its type.
import { describe, expect, test } from "vitest";
import { DIFFICULTIES, SPLITS } from "../../src/data/splits.js";
import { streamExamples, type Example } from "../../src/data/stream.js";
import { collectStats } from "../../src/data/stats.js";
import { MAX_ANSWER_SHARE } from "../../src/data/shapes/questions.js";
import { MAX_VIDEO_ANSWER_SHARE } from "../../src/data/shapes/video-questions.js";
import { IMAGE_QUESTION_TYPES, VIDEO_QUESTION_TYPES } from "../../src/data/shapes/templates.js";
import { checkImage, checkVideo, type CScene, type CVideo } from "./checker.js";

function mismatches(examples: Iterable<Example>): string[] {
  const bad: string[] = [];
  for (const ex of examples) {
    for (const qa of ex.qa) {
      let want: string;
      try {
        want = ex.kind === "image" ? checkImage(ex.scene as CScene, qa.question) : checkVideo(ex.scene as CVideo, qa.question);
      } catch (e) {
        want = `<checker: ${(e as Error).message}>`;
      }
      if (want !== qa.answer) bad.push(`${ex.id} "${qa.question}" generator=${qa.answer} checker=${want}`);
    }
  }
  return bad;
}

describe("answers are correct (independent checker)", () => {
  for (const difficulty of Object.values(DIFFICULTIES)) {
    test(`images, ${difficulty.name}, every split`, () => {
      const bad: string[] = [];
      for (const split of SPLITS)
        bad.push(...mismatches(streamExamples("image", { split, difficulty, count: 300, render: false })));
      expect(bad.slice(0, 10)).toEqual([]);
    });
    test(`videos, ${difficulty.name}, every split`, () => {
      const bad: string[] = [];
      for (const split of SPLITS)
        bad.push(...mismatches(streamExamples("video", { split, difficulty, count: 150, render: false })));
      expect(bad.slice(0, 10)).toEqual([]);
    });
  }
});

describe("answer balance per question type (2000 examples)", () => {
  test("images", () => {
    const s = collectStats(streamExamples("image", { split: "train", count: 2000, render: false }));
    for (const t of IMAGE_QUESTION_TYPES) {
      expect(s.types[t].questions, t).toBeGreaterThan(800);
      expect(s.types[t].maxShare, `${t}: top answer ${s.types[t].top}`).toBeLessThanOrEqual(MAX_ANSWER_SHARE[t]);
    }
  });
  test("videos", () => {
    const s = collectStats(streamExamples("video", { split: "train", count: 2000, render: false }));
    for (const t of VIDEO_QUESTION_TYPES) {
      expect(s.types[t].questions, t).toBeGreaterThan(1500);
      expect(s.types[t].maxShare, `${t}: top answer ${s.types[t].top}`).toBeLessThanOrEqual(MAX_VIDEO_ANSWER_SHARE[t]);
    }
  });
  test("yes/no split evenly wherever they occur", () => {
    const s = collectStats(streamExamples("image", { split: "val", count: 2000, render: false }));
    for (const [t, a] of Object.entries(s.types)) {
      const yes = a.answers["yes"] ?? 0, no = a.answers["no"] ?? 0;
      if (yes + no > 100) expect(Math.abs(yes - no) / (yes + no), t).toBeLessThan(0.12);
    }
  });
});

test("several questions per image, first turn carries <image>", () => {
  for (const ex of streamExamples("image", { split: "train", count: 200, render: false })) {
    expect(ex.qa.length).toBeGreaterThanOrEqual(3);
    expect(ex.conversations.length).toBe(2 * ex.qa.length);
    expect(ex.conversations[0].value.startsWith("<image>\n")).toBe(true);
    expect(ex.conversations.slice(1).some((t) => t.value.includes("<image>"))).toBe(false);
    expect(new Set(ex.qa.map((q) => q.question)).size).toBe(ex.qa.length);
    for (const q of ex.qa) expect(q.answer).toMatch(/^[a-z0-9]+$/);
  }
});
