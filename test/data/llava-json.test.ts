import { afterAll, describe, expect, test } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LlavaFormatError, loadLlavaJson, loadRecordImages, parseLlava, recordImagePaths, writeLlavaDataset } from "../../src/data/llava-json.js";
import { readImage } from "../../src/data/image-io.js";
import { makeExample, streamExamples } from "../../src/data/stream.js";

const dir = mkdtempSync(join(tmpdir(), "vlmc-llava-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const good = (id: string, extra: object = {}) => ({
  id,
  image: "a.png",
  conversations: [
    { from: "human", value: "<image>\nwhat colour?" },
    { from: "gpt", value: "red" },
  ],
  ...extra,
});

describe("LLaVA JSON loader", () => {
  test("accepts valid records: image, text-only, numeric id, clip frames, multi-image", () => {
    const recs = [
      good("a"),
      { id: 7, conversations: [{ from: "human", value: "hi" }, { from: "gpt", value: "yes" }] },
      { ...good("c"), image: ["f1.png", "f2.jpg"] },
      { ...good("d"), image: ["x.png", "y.jpeg"], conversations: [{ from: "human", value: "<image> <image>\nq" }, { from: "gpt", value: "a" }] },
    ];
    const r = parseLlava(JSON.stringify(recs), "ok.json");
    expect(r.errors).toEqual([]);
    expect(r.records.map((x) => x.id)).toEqual(["a", "7", "c", "d"]);
    expect(r.records[1].image).toBeUndefined();
  });

  test("reports every malformed record with index, id and field", () => {
    const recs: unknown[] = [
      good("ok"),
      "not an object",
      good(""),
      good("no-convs", { conversations: [] }),
      good("bad-from", { conversations: [{ from: "user", value: "<image>\nq" }, { from: "gpt", value: "a" }] }),
      good("odd", { conversations: [{ from: "human", value: "<image>\nq" }] }),
      good("no-tag", { conversations: [{ from: "human", value: "q" }, { from: "gpt", value: "a" }] }),
      good("ext", { image: "a.gif" }),
      good("value", { conversations: [{ from: "human", value: "<image>\nq" }, { from: "gpt", value: 3 }] }),
      good("ok"),
      { id: "tag-no-image", conversations: [{ from: "human", value: "<image>\nq" }, { from: "gpt", value: "a" }] },
    ];
    const r = parseLlava(JSON.stringify(recs), "bad.json");
    expect(r.total).toBe(11);
    expect(r.records.map((x) => x.id)).toEqual(["ok"]);
    const where = r.errors.map((e) => `${e.index}:${e.field}`);
    expect(where).toEqual([
      "1:(record)",
      "2:id",
      "3:conversations",
      "4:conversations[0].from",
      "5:conversations",
      "6:conversations[0].value",
      "7:image",
      "8:conversations[1].value",
      "9:id",
      "10:conversations",
    ]);
    expect(r.errors[8].message).toBe("duplicate of record 0");
    expect(r.errors[3].id).toBe("bad-from");
  });

  test("reject mode throws one error that lists them all; broken JSON is a file error", () => {
    const text = JSON.stringify([good("a"), good("a"), { id: "x" }]);
    try {
      parseLlava(text, "r.json", { onError: "reject" });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(LlavaFormatError);
      expect((e as LlavaFormatError).errors.length).toBe(2);
      expect((e as Error).message).toMatch(/^r\.json: 2 malformed record\(s\); first: record 1 \(id a\): id: duplicate/);
    }
    expect(() => parseLlava("[{", "broken.json")).toThrow(/broken\.json: invalid JSON/);
    expect(() => parseLlava('{"data": [],\n "x": 1}', "obj.json")).toThrow(/top level must be a JSON array/);
  });

  test("JSONL: one record per line, a broken line is a malformed record", () => {
    const text = [JSON.stringify(good("a")), "{oops", "", JSON.stringify(good("b"))].join("\n");
    const r = parseLlava(text, "d.jsonl");
    expect(r.records.map((x) => x.id)).toEqual(["a", "b"]);
    expect(r.errors.map((e) => `${e.index}:${e.field}`)).toEqual(["1:(record)"]);
    expect(r.errors[0].message).toMatch(/invalid JSON line/);
  });

  test("missing image files are reported when checking files", () => {
    writeFileSync(join(dir, "m.json"), JSON.stringify([good("m")]));
    const r = loadLlavaJson(join(dir, "m.json"));
    expect(r.errors.map((e) => `${e.field}: ${e.message}`)).toEqual(["image: file not found: a.png"]);
    expect(loadLlavaJson(join(dir, "m.json"), { checkImages: false }).records.length).toBe(1);
  });

  test("writer output loads back; PNG pixels equal the generated frames", () => {
    const out = join(dir, "ds");
    const w = writeLlavaDataset(out, "train", streamExamples("image", { split: "train", count: 3, size: 48 }));
    const v = writeLlavaDataset(out, "train-video", streamExamples("video", { split: "train", count: 2, size: 32 }));
    expect(w).toEqual({ records: 3, images: 3 });
    const r = loadLlavaJson(join(out, "train.json"), { onError: "reject" });
    expect(r.records[1].types?.length).toBe(r.records[1].conversations.length / 2);
    const ex = makeExample("image", 1, { split: "train", size: 48 });
    expect(r.records[1].conversations).toEqual(ex.conversations);
    const img = readImage(recordImagePaths(r.records[1], out)[0]);
    expect(Buffer.compare(Buffer.from(img.data), Buffer.from(ex.frames[0]))).toBe(0);
    const rv = loadLlavaJson(join(out, "train-video.json"), { onError: "reject" });
    const clip = makeExample("video", 0, { split: "train", size: 32 });
    const frames = loadRecordImages(rv.records[0], out);
    expect(frames.length).toBe(clip.frames.length);
    frames.forEach((f, i) => expect(Buffer.compare(Buffer.from(f.data), Buffer.from(clip.frames[i]))).toBe(0));
    expect(() => loadRecordImages({ ...rv.records[0], image: "gone.png" }, out)).toThrow(/record train-v0000000: .*gone\.png/);
    expect(rv.records.length).toBe(2);
    expect((rv.records[0].image as string[]).length).toBe(v.images - (rv.records[1].image as string[]).length);
    expect(readFileSync(join(out, "train.json"), "utf8").startsWith("[\n{")).toBe(true);
  });
});
