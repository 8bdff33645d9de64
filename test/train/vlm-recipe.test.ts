import { describe, expect, test } from "vitest";
import { makeExample } from "../../src/data/stream.js";
import { CAPTION_QUESTION, captionOf } from "../../src/data/shapes/caption.js";
import type { Scene } from "../../src/data/shapes/scene.js";
import { captionConversation, parsePerTypeOf, parseTypeBlocks, typeBlockAt } from "../../src/train/recipes/vlm.js";

describe("caption examples", () => {
  const ex = makeExample("image", 3, { split: "train", questions: 5, render: false });
  const caption = captionOf(ex.scene as Scene);

  test("replace: the caption is the only turn and carries the image", () => {
    expect(captionConversation(ex, "replace")).toEqual([
      { from: "human", value: `<image>\n${CAPTION_QUESTION}` },
      { from: "gpt", value: caption },
    ]);
  });

  test("append: the questions first, unchanged, then the caption as the last turn", () => {
    const conv = captionConversation(ex, "append");
    expect(conv.slice(0, -2)).toEqual(ex.conversations);
    expect(conv[0].value.startsWith("<image>\n")).toBe(true);
    expect(conv.slice(-2)).toEqual([{ from: "human", value: CAPTION_QUESTION }, { from: "gpt", value: caption }]);
    expect(conv.filter((t) => t.value.includes("<image>"))).toHaveLength(1);
  });
});

describe("questions_per_type_of", () => {
  test("parses type=count lists and names the bad part", () => {
    expect(parsePerTypeOf("")).toEqual({});
    expect(parsePerTypeOf("existence=6, count=2")).toEqual({ existence: 6, count: 2 });
    expect(() => parsePerTypeOf("existance=6")).toThrow(/"existance" is not one of/);
    expect(() => parsePerTypeOf("existence=0")).toThrow(/existence must be an integer >= 1, got "0"/);
    expect(() => parsePerTypeOf("existence")).toThrow(/existence must be an integer/);
  });
});

describe("type_blocks", () => {
  test("parses a cycle of types and all, refusing unknown names", () => {
    expect(parseTypeBlocks("")).toEqual([]);
    expect(parseTypeBlocks("existence, count,all")).toEqual(["existence", "count", "all"]);
    expect(() => parseTypeBlocks("existence,colour")).toThrow(/type_blocks "existence,colour": "colour" is not one of all, /);
  });
  test("each block lasts blockSteps optimizer steps, whatever the accumulation, then the cycle repeats", () => {
    const blocks = parseTypeBlocks("existence,count,all");
    // 2 steps per block, 3 micro-batches per step: micro-batches 0-5 existence, 6-11 count, 12-17 all, 18 existence
    const seen = [0, 5, 6, 11, 12, 17, 18].map((i) => typeBlockAt(blocks, i, 2, 3));
    expect(seen).toEqual(["existence", "existence", "count", "count", "all", "all", "existence"]);
    expect(typeBlockAt([], 7, 2, 3)).toBe("all");
  });
});
