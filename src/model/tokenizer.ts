// Tokenizers: the interface the model, data and eval code use; our word-level tokenizer for the
// synthetic ShapesQA text, saved as a genuine Hugging Face `tokenizer.json` (WordLevel model).
// Loading any HF tokenizer folder (ours included) is `loadTokenizer` in tokenizer-hf.ts, the one
// place the npm package is used, so this file does not need it.
// Word-level pipeline, expressed in HF terms so the `tokenizers` library reproduces it exactly:
//   added tokens  the specials, matched literally in the raw text (leftmost-longest), never split
//   normalizer    Lowercase (optional), then whole-word Replace rules (optional; e.g. "stars" -> "star -s")
//   pre-tokenizer WhitespaceSplit, then Split on [?,.!:;] "Isolated" (each mark is its own token)
//   model         WordLevel: vocab lookup, unknown words -> <unk>
//   decoder       a space before every token except a lone punctuation mark, joined, first space dropped
// Not here: the data layer's own Vocab (src/data/vocab.ts; same specials and ids for generator text).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { saveJsonFile } from "./safetensors.js";

/** Ids of the special tokens a tokenizer has (absent when it has none of that kind). */
export interface SpecialIds {
  bos?: number;
  eos?: number;
  pad?: number;
  unk?: number;
  /** The image placeholder token (<image>); LLaVA's original tokenizer has none. */
  image?: number;
  /** VoCo-LLaMA's compression token (<voco>). */
  voco?: number;
}

export interface EncodeOptions {
  /** Prepend the BOS id (error if the tokenizer has none). */
  bos?: boolean;
  /** Append the EOS id (error if the tokenizer has none). */
  eos?: boolean;
}

export interface DecodeOptions {
  /** Drop special tokens (every added special token, <unk> included, as HF does). */
  skipSpecial?: boolean;
}

export interface Tokenizer {
  /** Number of ids: the largest id + 1 (the embedding table needs at least this many rows). */
  readonly vocabSize: number;
  readonly special: Readonly<SpecialIds>;
  /** Text -> ids. Special-token strings in the text become their ids; BOS/EOS only on request. */
  encode(text: string, opts?: EncodeOptions): number[];
  decode(ids: readonly number[], opts?: DecodeOptions): string;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
}

/** Conventional special-token strings and the role each plays. */
export const SPECIAL_ROLES: Readonly<Record<string, keyof SpecialIds>> = {
  "<s>": "bos", "</s>": "eos", "<pad>": "pad", "<unk>": "unk", "<image>": "image", "<voco>": "voco",
};

export const DEFAULT_SPECIALS: readonly string[] = ["<pad>", "<s>", "</s>", "<unk>", "<image>", "<voco>"];
const PUNCTUATION = "?,.!:;";
const PUNCT_SPLIT = /([?,.!:;])/;
const WHITESPACE = /\s+/;

/** Adds ids to EOS/BOS as asked; shared by both implementations. */
export function withBosEos(ids: number[], special: Readonly<SpecialIds>, opts: EncodeOptions): number[] {
  if (opts.bos) {
    if (special.bos === undefined) throw new Error("encode: bos requested but the tokenizer has no BOS token");
    ids.unshift(special.bos);
  }
  if (opts.eos) {
    if (special.eos === undefined) throw new Error("encode: eos requested but the tokenizer has no EOS token");
    ids.push(special.eos);
  }
  return ids;
}

export interface WordLevelOptions {
  /** Special tokens, given the first ids in this order; default DEFAULT_SPECIALS. */
  specials?: readonly string[];
  /** Lower-case text before the vocabulary lookup (default true). */
  lowercase?: boolean;
  /** The token unknown words map to; must be one of the specials (default <unk>). */
  unkToken?: string;
  /** Whole words replaced by other text after lower-casing (a HF Replace normalizer each). */
  replacements?: Readonly<Record<string, string>>;
}

export class WordLevelTokenizer implements Tokenizer {
  readonly tokens: readonly string[];
  readonly specials: readonly string[];
  readonly lowercase: boolean;
  readonly unkToken: string;
  readonly replacements: Readonly<Record<string, string>>;
  readonly special: Readonly<SpecialIds>;
  #ids: Map<string, number>;
  #specialRe: RegExp | null;

  /** Specials first (in order), then the words in the order given, duplicates dropped. */
  static fromWords(words: Iterable<string>, opts: WordLevelOptions = {}): WordLevelTokenizer {
    const specials = opts.specials ?? DEFAULT_SPECIALS;
    const rest = new Set(words);
    for (const s of specials) rest.delete(s);
    return new WordLevelTokenizer([...specials, ...rest], opts);
  }

  /** `tokens` is the whole vocabulary, id = index; it must start with the specials. */
  constructor(tokens: readonly string[], opts: WordLevelOptions = {}) {
    this.specials = [...(opts.specials ?? DEFAULT_SPECIALS)];
    this.lowercase = opts.lowercase ?? true;
    this.unkToken = opts.unkToken ?? "<unk>";
    this.replacements = { ...(opts.replacements ?? {}) };
    for (const w of Object.keys(this.replacements)) {
      if (!/^[a-z0-9]+$/.test(w)) throw new Error(`WordLevelTokenizer: replacement key ${JSON.stringify(w)} must be a lower-case word of letters and digits`);
    }
    this.specials.forEach((s, i) => {
      if (tokens[i] !== s) throw new Error(`WordLevelTokenizer: token ${i} must be the special ${s}, got ${JSON.stringify(tokens[i])}`);
    });
    if (!this.specials.includes(this.unkToken)) throw new Error(`WordLevelTokenizer: unk token ${this.unkToken} is not among the specials`);
    for (const w of tokens.slice(this.specials.length)) this.#checkWord(w);
    this.tokens = [...tokens];
    this.#ids = new Map(this.tokens.map((t, i) => [t, i]));
    if (this.#ids.size !== this.tokens.length) throw new Error("WordLevelTokenizer: duplicate tokens");
    const special: SpecialIds = {};
    this.specials.forEach((s, i) => { const role = SPECIAL_ROLES[s]; if (role !== undefined) special[role] = i; });
    this.special = special;
    // leftmost-longest match of the specials, as HF's added-token splitter does
    const alts = [...this.specials].sort((a, b) => b.length - a.length).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    this.#specialRe = alts.length > 0 ? new RegExp(`(${alts.join("|")})`) : null;
  }

  /** A word must be something encode() can produce: one pre-token, already normalized. */
  #checkWord(w: string): void {
    const ok = w.length > 0 && !WHITESPACE.test(w) && (w.length === 1 || ![...PUNCTUATION].some((p) => w.includes(p)))
      && (!this.lowercase || w === w.toLowerCase());
    if (!ok) throw new Error(`WordLevelTokenizer: ${JSON.stringify(w)} can never be produced by the pre-tokenizer${this.lowercase ? " (lower-casing on)" : ""}`);
  }

  get vocabSize(): number {
    return this.tokens.length;
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const unk = this.#ids.get(this.unkToken)!;
    const ids: number[] = [];
    const pieces = this.#specialRe === null ? [text] : text.split(this.#specialRe); // odd indices: specials
    pieces.forEach((piece, i) => {
      if (i % 2 === 1) { ids.push(this.#ids.get(piece)!); return; }
      const norm = this.#replace(this.lowercase ? piece.toLowerCase() : piece);
      for (const word of norm.split(WHITESPACE)) {
        for (const part of word.split(PUNCT_SPLIT)) if (part !== "") ids.push(this.#ids.get(part) ?? unk);
      }
    });
    return withBosEos(ids, this.special, opts);
  }

  /** The Replace normalizers, in key order, as the HF pipeline applies them. */
  #replace(text: string): string {
    let out = text;
    for (const [w, r] of Object.entries(this.replacements)) out = out.replace(new RegExp(`\\b${w}\\b`, "g"), r);
    return out;
  }

  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    let out = "";
    for (const id of ids) {
      const t = this.tokens[id];
      if (t === undefined) throw new Error(`decode: id ${id} outside the vocabulary of ${this.vocabSize}`);
      if (opts.skipSpecial && id < this.specials.length) continue;
      out += t.length === 1 && PUNCTUATION.includes(t) ? t : ` ${t}`;
    }
    return out.startsWith(" ") ? out.slice(1) : out;
  }

  tokenToId(token: string): number | undefined {
    return this.#ids.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.tokens[id];
  }

  /** The HF `tokenizer.json` object (tokenizers' serialization format, WordLevel model). */
  toTokenizerJson(): Record<string, unknown> {
    const punct = `[${PUNCTUATION}]`;
    return {
      version: "1.0",
      truncation: null,
      padding: null,
      added_tokens: this.specials.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
      normalizer: this.#normalizerJson(),
      pre_tokenizer: { type: "Sequence", pretokenizers: [{ type: "WhitespaceSplit" }, { type: "Split", pattern: { Regex: punct }, behavior: "Isolated", invert: false }] },
      post_processor: null,
      decoder: {
        type: "Sequence",
        decoders: [
          { type: "Replace", pattern: { Regex: `^(?!${punct}$)` }, content: " " }, // " " before all but lone punctuation
          { type: "Fuse" },
          { type: "Strip", content: " ", start: 1, stop: 0 },
        ],
      },
      model: { type: "WordLevel", vocab: Object.fromEntries(this.tokens.map((t, i) => [t, i])), unk_token: this.unkToken },
    };
  }

  #normalizerJson(): Record<string, unknown> | null {
    const steps: Record<string, unknown>[] = this.lowercase ? [{ type: "Lowercase" }] : [];
    for (const [w, r] of Object.entries(this.replacements)) steps.push({ type: "Replace", pattern: { Regex: `\\b${w}\\b` }, content: r });
    if (steps.length <= 1) return steps[0] ?? null; // one step: as before, without a Sequence
    return { type: "Sequence", normalizers: steps };
  }

  /** `tokenizer_config.json` for transformers' PreTrainedTokenizerFast. */
  toTokenizerConfig(): Record<string, unknown> {
    const named: Record<string, string> = {};
    for (const s of this.specials) {
      const role = SPECIAL_ROLES[s];
      if (role === "bos" || role === "eos" || role === "pad" || role === "unk") named[`${role}_token`] = s;
    }
    named.unk_token = this.unkToken;
    const additional = this.specials.filter((s) => !Object.values(named).includes(s));
    return { tokenizer_class: "PreTrainedTokenizerFast", ...named, additional_special_tokens: additional, clean_up_tokenization_spaces: false };
  }
}

export const TOKENIZER_FILE = "tokenizer.json";
export const TOKENIZER_CONFIG_FILE = "tokenizer_config.json";
export const SPECIAL_TOKENS_MAP_FILE = "special_tokens_map.json";

/** Writes tokenizer.json, tokenizer_config.json and special_tokens_map.json into `dir`, as HF does. */
export function saveTokenizer(dir: string, tok: WordLevelTokenizer): void {
  mkdirSync(dir, { recursive: true });
  saveJsonFile(join(dir, TOKENIZER_FILE), tok.toTokenizerJson());
  const config = tok.toTokenizerConfig();
  saveJsonFile(join(dir, TOKENIZER_CONFIG_FILE), config);
  const { tokenizer_class: _c, clean_up_tokenization_spaces: _s, ...map } = config;
  saveJsonFile(join(dir, SPECIAL_TOKENS_MAP_FILE), map);
}
