// Tokenizers: our word-level tokenizer against hand-computed ids, saved as tokenizer.json and loaded
// back through the HF package (two implementations that must agree); a small LLaMA-style BPE
// tokenizer.json (byte fallback, "▁" metaspace, added <image>) written here, whose encodings are
// worked out by hand from the merge list below.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Vocab } from "../../src/data/vocab.js";
import { TEMPLATES } from "../../src/data/shapes/templates.js";
import { HfTokenizer, loadTokenizer } from "../../src/model/tokenizer-hf.js";
import { saveTokenizer, WordLevelTokenizer } from "../../src/model/tokenizer.js";

const tmp = mkdtempSync(join(tmpdir(), "vlmc-tok-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// ---- word level ------------------------------------------------------------------------------

// ids: <pad> 0, <s> 1, </s> 2, <unk> 3, <image> 4, <voco> 5, then the words in order from 6
const WORDS = ["what", "colour", "is", "the", "circle", "?", ",", ".", "!", ":", ";", "3", "red"];
const TEXT = "<image>\nWhat colour is the CIRCLE? 3.5, a: red;<voco>";
// <image> what colour is the circle ? 3 . 5(unk) , a(unk) : red ; <voco>
const TEXT_IDS = [4, 6, 7, 8, 9, 10, 11, 17, 13, 3, 12, 3, 15, 18, 16, 5];

const CORPUS = [
  TEXT, "", "   ", "what?!", "RED, red. Red", "<s>the circle</s>", "<IMAGE> is not special when upper-case",
  "a<image>b", "3.3.3", "what colour\tis\n\nthe circle ?", "<voco><voco> red", "...", "what : ; ! , .",
  "<unk> circle", "<image><image>", "the circle is red.<voco>", "ünïcödé wörds", "::;;", "x<pad>y",
];

describe("WordLevelTokenizer", () => {
  const tok = WordLevelTokenizer.fromWords([...WORDS, "the", "<image>"]); // duplicates and specials dropped

  it("encodes and decodes as worked out by hand", () => {
    expect(tok.vocabSize).toBe(19);
    expect(tok.special).toEqual({ pad: 0, bos: 1, eos: 2, unk: 3, image: 4, voco: 5 });
    expect(tok.encode(TEXT)).toEqual(TEXT_IDS);
    expect(tok.encode(TEXT, { bos: true, eos: true })).toEqual([1, ...TEXT_IDS, 2]);
    expect(tok.decode(TEXT_IDS)).toBe("<image> what colour is the circle? 3. <unk>, <unk>: red; <voco>");
    expect(tok.decode(TEXT_IDS, { skipSpecial: true })).toBe("what colour is the circle? 3.,: red;");
    expect(tok.decode([])).toBe("");
    expect(tok.tokenToId("red")).toBe(18);
    expect(tok.idToToken(6)).toBe("what");
    expect(() => tok.decode([19])).toThrow(/id 19 outside the vocabulary of 19/);
  });

  it("lower-casing can be turned off; other special lists and bad words are handled", () => {
    const cased = WordLevelTokenizer.fromWords(["Red", "red"], { lowercase: false, specials: ["<unk>", "<image>"] });
    expect(cased.special).toEqual({ unk: 0, image: 1 });
    expect(cased.encode("Red red RED<image>")).toEqual([2, 3, 0, 1]);
    expect(() => cased.encode("red", { bos: true })).toThrow(/no BOS token/);
    expect(() => WordLevelTokenizer.fromWords(["Red"])).toThrow(/"Red" can never be produced by the pre-tokenizer \(lower-casing on\)/);
    expect(() => WordLevelTokenizer.fromWords(["a b"])).toThrow(/can never be produced/);
    expect(() => WordLevelTokenizer.fromWords(["3.5"])).toThrow(/can never be produced/);
    expect(() => new WordLevelTokenizer(["<s>", "<pad>"], {})).toThrow(/token 0 must be the special <pad>/);
    expect(() => WordLevelTokenizer.fromWords([], { specials: ["<pad>"] })).toThrow(/unk token <unk> is not among the specials/);
  });

  it("agrees with the data layer's Vocab on generator text", () => {
    const vocab = Vocab.build();
    const wl = new WordLevelTokenizer(vocab.tokens);
    const fill = (t: string) => t.replace(/\{(\w+)\}/g, (_m, slot: string) => ({ a: "red circle", b: "blue square" } as Record<string, string>)[slot] ?? "red");
    for (const t of Object.values(TEMPLATES)) {
      const text = `<image>\n${fill(t)}`;
      expect(wl.encode(text, { bos: true }), text).toEqual(vocab.encode(text, { bos: true }));
      expect(wl.decode(vocab.encode(text))).toBe(vocab.decode(vocab.encode(text)));
    }
  });

  it("with Replace rules (the plural suffix) agrees with the data layer's Vocab, and writes them as normalizers", () => {
    const vocab = Vocab.build([], { pluralSuffix: true });
    const wl = new WordLevelTokenizer(vocab.tokens, { replacements: vocab.replacements() });
    for (const text of ["<image>\nhow many Stars are there?", "are there any red crosses?", "what colour is the largest star?"]) {
      expect(wl.encode(text), text).toEqual(vocab.encode(text));
    }
    const norm = wl.toTokenizerJson().normalizer as { type: string; normalizers: { type: string }[] };
    expect(norm.type).toBe("Sequence");
    expect(norm.normalizers[0]).toEqual({ type: "Lowercase" });
    expect(norm.normalizers[1]).toEqual({ type: "Replace", pattern: { Regex: "\\bcircles\\b" }, content: "circle -s" });
    expect(() => new WordLevelTokenizer(vocab.tokens, { replacements: { "a b": "c" } })).toThrow(/replacement key "a b" must be a lower-case word/);
  });

  it("saves a genuine HF tokenizer.json that the HF package loads to the same behaviour", () => {
    const dir = join(tmp, "wordlevel");
    saveTokenizer(dir, tok);
    const json = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"));
    expect(json.model).toEqual({ type: "WordLevel", vocab: Object.fromEntries(tok.tokens.map((t, i) => [t, i])), unk_token: "<unk>" });
    expect(json.normalizer).toEqual({ type: "Lowercase" });
    expect(json.pre_tokenizer).toEqual({ type: "Sequence", pretokenizers: [{ type: "WhitespaceSplit" }, { type: "Split", pattern: { Regex: "[?,.!:;]" }, behavior: "Isolated", invert: false }] });
    expect(json.added_tokens[4]).toEqual({ id: 4, content: "<image>", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
    expect(JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8"))).toEqual({
      tokenizer_class: "PreTrainedTokenizerFast", pad_token: "<pad>", bos_token: "<s>", eos_token: "</s>", unk_token: "<unk>",
      additional_special_tokens: ["<image>", "<voco>"], clean_up_tokenization_spaces: false,
    });
    const hf = loadTokenizer(dir);
    expect(hf.modelType).toBe("WordLevel");
    expect(hf.vocabSize).toBe(tok.vocabSize);
    expect(hf.special).toEqual(tok.special);
    expect(hf.encode(TEXT)).toEqual(TEXT_IDS);
    for (const text of CORPUS) {
      const ids = tok.encode(text);
      expect(hf.encode(text), JSON.stringify(text)).toEqual(ids);
      expect(hf.decode(ids), JSON.stringify(text)).toBe(tok.decode(ids));
      expect(hf.decode(ids, { skipSpecial: true }), JSON.stringify(text)).toBe(tok.decode(ids, { skipSpecial: true }));
    }
  });
});

// ---- a LLaMA-style BPE tokenizer.json --------------------------------------------------------

// Vocab as LLaMA lays it out: <unk> 0, <s> 1, </s> 2, the 256 byte tokens <0x00>..<0xFF> at 3..258,
// then the pieces below from 259; <image> 272 and <pad> 273 added after, as llava-hf adds them.
const PIECES = ["▁", "t", "h", "e", "c", "a", "s", "▁t", "he", "▁the", "at", "▁c", "▁cat"];
const MERGES = ["▁ t", "h e", "▁t he", "a t", "▁ c", "▁c at"]; // rank 0..5
const id = (piece: string) => 259 + PIECES.indexOf(piece);
const byte = (b: number) => 3 + b;

function bpeTokenizerJson(style: "legacy" | "metaspace"): Record<string, unknown> {
  const vocab: Record<string, number> = { "<unk>": 0, "<s>": 1, "</s>": 2 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`] = byte(b);
  PIECES.forEach((p) => { vocab[p] = id(p); });
  const added = (content: string, tokenId: number) => ({ id: tokenId, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: "1.0", truncation: null, padding: null,
    added_tokens: [added("<unk>", 0), added("<s>", 1), added("</s>", 2), added("<image>", 272), added("<pad>", 273)],
    // legacy = the Llama-2 / Vicuna tokenizer.json (llava-hf); metaspace = the newer Llama form
    normalizer: style === "legacy" ? { type: "Sequence", normalizers: [{ type: "Prepend", prepend: "▁" }, { type: "Replace", pattern: { String: " " }, content: "▁" }] } : null,
    pre_tokenizer: style === "legacy" ? null : { type: "Metaspace", replacement: "▁", prepend_scheme: "first", split: false },
    post_processor: { type: "TemplateProcessing", single: [{ SpecialToken: { id: "<s>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }], pair: [], special_tokens: { "<s>": { id: "<s>", ids: [1], tokens: ["<s>"] } } },
    decoder: { type: "Sequence", decoders: [{ type: "Replace", pattern: { String: "▁" }, content: " " }, { type: "ByteFallback" }, { type: "Fuse" }, { type: "Strip", content: " ", start: 1, stop: 0 }] },
    model: { type: "BPE", dropout: null, unk_token: "<unk>", continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges: MERGES },
  };
}

function writeBpeFolder(name: string, style: "legacy" | "metaspace", config: Record<string, unknown> | null): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(bpeTokenizerJson(style)));
  if (config !== null) writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify(config));
  return dir;
}

// llava-hf/llava-1.5-7b-hf style tokenizer_config.json (AddedToken objects, explicit clean-up off)
const LLAVA_HF_CONFIG = {
  add_bos_token: true, add_eos_token: false, clean_up_tokenization_spaces: false, legacy: false, model_max_length: 1000000000000000,
  bos_token: { __type: "AddedToken", content: "<s>", lstrip: false, normalized: false, rstrip: false, single_word: false },
  eos_token: "</s>", pad_token: "<pad>", unk_token: "<unk>", tokenizer_class: "LlamaTokenizer",
};

describe("HF BPE tokenizer.json (LLaMA style, byte fallback)", () => {
  for (const style of ["legacy", "metaspace"] as const) {
    const tok = loadTokenizer(writeBpeFolder(`bpe-${style}`, style, LLAVA_HF_CONFIG));

    it(`${style}: merges applied by rank, as computed by hand`, () => {
      // "the cat sat" -> "▁the▁cat▁sat" -> chars ▁ t h e ▁ c a t ▁ s a t
      //   rank 0 "▁ t": ▁t h e ▁ c a t ▁ s a t      rank 1 "h e": ▁t he ▁ c a t ▁ s a t
      //   rank 2 "▁t he": ▁the ▁ c a t ▁ s a t      rank 3 "a t": ▁the ▁ c at ▁ s at
      //   rank 4 "▁ c": ▁the ▁c at ▁ s at           rank 5 "▁c at": ▁the ▁cat ▁ s at
      const ids = [id("▁the"), id("▁cat"), id("▁"), id("s"), id("at")];
      expect(ids).toEqual([268, 271, 259, 265, 269]);
      expect(tok.encode("the cat sat")).toEqual(ids);
      expect(tok.encode("the cat sat", { bos: true, eos: true })).toEqual([1, ...ids, 2]);
      expect(tok.decode(ids)).toBe("the cat sat");
      // "cats": ▁ c a t s -> (a t) ▁ c at s -> (▁ c) ▁c at s -> (▁c at) ▁cat s
      expect(tok.encode("cats")).toEqual([id("▁cat"), id("s")]);
    });

    it(`${style}: characters outside the vocab fall back to their UTF-8 bytes`, () => {
      // "▁the▁café!": ▁the ▁c a, then f, é (C3 A9), ! are not pieces -> <0x66> <0xC3> <0xA9> <0x21>
      const ids = [id("▁the"), id("▁c"), id("a"), byte(0x66), byte(0xc3), byte(0xa9), byte(0x21)];
      expect(tok.encode("the café!")).toEqual(ids);
      expect(tok.decode(ids)).toBe("the café!");
      // "Hi 🙂": ▁ then H i as bytes, ▁, then the 4 bytes of U+1F642
      const hi = [id("▁"), byte(0x48), byte(0x69), id("▁"), byte(0xf0), byte(0x9f), byte(0x99), byte(0x82)];
      expect(tok.encode("Hi 🙂")).toEqual(hi);
      expect(tok.decode(hi)).toBe("Hi 🙂");
    });

    it(`${style}: the added <image> token is matched whole; specials and roles come from the config`, () => {
      // legacy prepends "▁" to every text section (so "\n..." gets one); metaspace only to the first
      const afterImage = style === "legacy" ? [id("▁"), byte(0x0a)] : [byte(0x0a)];
      expect(tok.encode("<image>\nthe cat")).toEqual([272, ...afterImage, id("t"), id("he"), id("▁cat")]);
      expect(tok.decode([1, 272, id("▁the"), 2], { skipSpecial: true })).toBe("the");
      expect(tok.special).toEqual({ bos: 1, eos: 2, pad: 273, unk: 0, image: 272 });
      expect(tok.vocabSize).toBe(274);
      expect(tok.tokenToId("<0x0A>")).toBe(13);
      expect(tok.idToToken(271)).toBe("▁cat");
      expect(tok.decode([])).toBe("");
      expect(() => tok.decode([274])).toThrow(/id 274 outside the vocabulary of 274/);
    });
  }

  it("without tokenizer_config.json, roles fall back to the conventional tokens; pad null means none", () => {
    expect(loadTokenizer(writeBpeFolder("bpe-bare", "legacy", null)).special).toEqual({ bos: 1, eos: 2, pad: 273, unk: 0, image: 272 });
    // the original LLaVA tokenizer config: pad_token null
    const nopad = writeBpeFolder("bpe-nopad", "legacy", { pad_token: null, unk_token: "<unk>" });
    expect(loadTokenizer(nopad).special.pad).toBeUndefined();
    // ... and LLaVA's training saves special_tokens_map.json with pad = <unk>, which wins, as in transformers
    writeFileSync(join(nopad, "special_tokens_map.json"), JSON.stringify({ pad_token: "<unk>" }));
    expect(loadTokenizer(nopad).special.pad).toBe(0);
  });
});

describe("tokenizer folder errors", () => {
  it("names the problem", () => {
    const sp = join(tmp, "sentencepiece-only");
    mkdirSync(sp, { recursive: true });
    writeFileSync(join(sp, "tokenizer.model"), "x");
    expect(() => loadTokenizer(sp)).toThrow(/no tokenizer\.json \(only a SentencePiece tokenizer\.model/);
    const bad = join(tmp, "bad-json");
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, "tokenizer.json"), "{ not json");
    expect(() => loadTokenizer(bad)).toThrow(/bad-json\/tokenizer\.json: cannot read JSON/);
    expect(() => new HfTokenizer({ model: { type: "Mystery", vocab: {} } })).toThrow(/model type "Mystery" is not supported/);
    expect(() => new HfTokenizer({ normalizer: null })).toThrow(/not a tokenizer\.json \(no "model" object\)/);
    // a WordLevel file without an unknown token cannot encode unknown words: say so, don't return undefined
    const noUnk = new HfTokenizer({ model: { type: "WordLevel", vocab: { a: 0 } }, pre_tokenizer: { type: "WhitespaceSplit" } });
    expect(noUnk.encode("a a")).toEqual([0, 0]);
    expect(() => noUnk.encode("a b")).toThrow(/token "b" has no id and the tokenizer has no unknown token/);
  });
});
