import { afterAll, describe, expect, test } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PLURAL_SUFFIX, SPECIAL_TOKENS, Vocab, tokenize } from "../../src/data/vocab.js";
import { loadTokenizer } from "../../src/model/tokenizer-hf.js";
import { loadVocabFile, saveVocabFile } from "../../src/train/model-dir.js";
import { DIFFICULTIES, SPLITS } from "../../src/data/splits.js";
import { streamExamples } from "../../src/data/stream.js";

const dir = mkdtempSync(join(tmpdir(), "vlmc-vocab-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("vocab", () => {
  test("deterministic: specials first in order, then sorted unique words", () => {
    const v = Vocab.build(), w = Vocab.build();
    expect(w.tokens).toEqual(v.tokens);
    expect(v.tokens.slice(0, SPECIAL_TOKENS.length)).toEqual([...SPECIAL_TOKENS]);
    const words = v.tokens.slice(SPECIAL_TOKENS.length);
    expect(words).toEqual([...words].sort());
    expect(new Set(words).size).toBe(words.length);
    expect(v.size).toBeLessThan(150);
  });

  test("covers every word of thousands of generated examples (all splits, kinds, difficulties)", () => {
    const v = Vocab.build();
    const missing = new Set<string>();
    for (const difficulty of Object.values(DIFFICULTIES))
      for (const split of SPLITS)
        for (const kind of ["image", "video"] as const)
          for (const ex of streamExamples(kind, { split, difficulty, count: 150, render: false }))
            for (const t of ex.conversations) for (const tok of tokenize(t.value)) if (!v.has(tok)) missing.add(tok);
    expect([...missing]).toEqual([]);
  });

  test("tokenize, encode, decode", () => {
    expect(tokenize("<image>\nWhat colour is the object in the top left?")).toEqual([
      "<image>", "what", "colour", "is", "the", "object", "in", "the", "top", "left", "?",
    ]);
    expect(tokenize("a,b. c?<voco>")).toEqual(["a,b", ".", "c", "?", "<voco>"]);
    const v = Vocab.build();
    const q = "<image>\nhow many red objects are there?";
    const ids = v.encode(q, { bos: true, eos: true });
    expect(ids[0]).toBe(v.special("<s>"));
    expect(ids.at(-1)).toBe(v.special("</s>"));
    expect(v.decode(ids, { skipSpecial: true })).toBe("<image> how many red objects are there?");
    expect(v.encode("zebra")).toEqual([v.special("<unk>")]);
    expect(() => v.decode([v.size])).toThrow(/outside vocab/);
  });

  test("tokenizer.json round trip; a missing or corrupt file is rejected with its name", () => {
    const v = Vocab.build(["extra"]);
    saveVocabFile(join(dir, "tok"), v);
    expect(loadVocabFile(join(dir, "tok")).tokens).toEqual(v.tokens);
    expect(() => Vocab.fromJSON({ version: 1, tokens: ["<s>"] })).toThrow(/token 0 must be <pad>/);
    expect(() => loadVocabFile(join(dir, "none"))).toThrow(/none/);
    writeFileSync(join(dir, "tok", "tokenizer.json"), "{ broken");
    expect(() => loadVocabFile(join(dir, "tok"))).toThrow(/tokenizer\.json/);
  });
});

describe("vocab with the plural suffix (a vlmc option)", () => {
  const plural = Vocab.build([], { pluralSuffix: true }), plain = Vocab.build();

  test("plural shape words become the singular + -s; the default vocabulary is unchanged", () => {
    expect(plural.pluralSuffix).toBe(true);
    expect(plain.pluralSuffix).toBe(false);
    expect(plural.has("stars") || plural.has("crosses")).toBe(false);
    expect(plain.has("stars") && plain.has("crosses")).toBe(true);
    const q = "are there any red crosses? how many stars are there?";
    expect(plural.encode(q).map((i) => plural.tokens[i])).toEqual(["are", "there", "any", "red", "cross", PLURAL_SUFFIX, "?", "how", "many", "star", PLURAL_SUFFIX, "are", "there", "?"]);
    expect(plural.decode(plural.encode(q))).toBe(q);
    expect(plain.encode("stars").map((i) => plain.tokens[i])).toEqual(["stars"]);
    expect(plural.decode(plural.encode("star -s"))).toBe("stars"); // the suffix after a shape is its plural however it was written
    // a built vocabulary never holds both; a plural word after the suffix is a mistake
    expect(() => new Vocab([...plural.tokens, "stars"])).toThrow(/both the plural suffix -s and plural words after it \(stars\)/);
  });

  test("extending a plain vocabulary appends the suffix: old ids unchanged, plurals encoded with it", () => {
    const ext = plain.extended([PLURAL_SUFFIX]);
    expect(ext.tokens.slice(0, plain.size)).toEqual(plain.tokens);
    expect(ext.size).toBe(plain.size + 1);
    expect(ext.id(PLURAL_SUFFIX)).toBe(plain.size);
    expect(ext.pluralSuffix).toBe(true);
    expect(ext.encode("how many stars are there ?").map((i) => ext.tokens[i])).toEqual(["how", "many", "star", PLURAL_SUFFIX, "are", "there", "?"]);
    expect(ext.encode("what colour is the star ?")).toEqual(plain.encode("what colour is the star ?"));
    expect(ext.decode(ext.encode("how many crosses ?"))).toBe("how many crosses?");
    expect(() => plain.extended(["star"])).toThrow(/already has star/);
    // its tokenizer.json encodes the same through the HF package, and loads back extended
    saveVocabFile(join(dir, "extended"), ext);
    const hf = loadTokenizer(join(dir, "extended"));
    for (const q of ["how many stars are there?", "are there any red crosses?", "what colour is the star?"]) expect(hf.encode(q), q).toEqual(ext.encode(q));
    expect(loadVocabFile(join(dir, "extended")).tokens).toEqual(ext.tokens);
  });

  test("encodes thousands of generated image questions without an unknown token", () => {
    const unk = plural.special("<unk>");
    for (const split of SPLITS)
      for (const ex of streamExamples("image", { split, difficulty: DIFFICULTIES.medium, count: 300, render: false }))
        for (const t of ex.conversations) expect(plural.encode(t.value), t.value).not.toContain(unk);
  });

  test("its tokenizer.json (Replace normalizers) encodes as the Vocab does, through the HF package, and loads back as a plural vocabulary", () => {
    saveVocabFile(join(dir, "plural"), plural);
    const hf = loadTokenizer(join(dir, "plural"));
    for (const ex of streamExamples("image", { split: "test", difficulty: DIFFICULTIES.medium, count: 100, render: false }))
      for (const t of ex.conversations) expect(hf.encode(t.value), t.value).toEqual(plural.encode(t.value));
    expect(hf.encode("starship stars")).toEqual([plural.special("<unk>"), plural.id("star"), plural.id(PLURAL_SUFFIX)]); // whole words only
    const back = loadVocabFile(join(dir, "plural"));
    expect(back.tokens).toEqual(plural.tokens);
    expect(back.pluralSuffix).toBe(true);
  });
});
