// Word-level vocabulary and tokenizer for the generated ShapesQA / ShapesVideoQA text.
//
// The vocabulary is built deterministically: the special tokens first, in a fixed order, then every
// word the generators can produce (template words + slot values + answers, from templates.ts and
// attributes.ts), sorted by UTF-16 code units (locale-independent). A test generates thousands of
// examples and checks that none of their words is missing.
// Tokenizer: specials are matched literally; the rest is lower-cased, split on whitespace, and the
// punctuation marks ? , . become tokens of their own. Unknown words map to <unk>.
// Plural suffix (a vocabulary option): a vocabulary holding PLURAL_SUFFIX has no plural shape words;
// "stars" is encoded as "star" "-s", so a shape word learned in one question type serves the
// questions that name it in the plural (existence, count) too. Old vocabularies encode as before; a
// trained model's vocabulary can be extended with the suffix (appended, old ids unchanged).
// Not here: files: model folders and `data write` store it as a HF tokenizer.json (train/model-dir.ts).

import {
  COLOURS,
  DIRECTIONS,
  MAX_NUMBER,
  REGIONS,
  RELATIONS,
  SHAPES,
  SHAPE_PLURALS,
  SIZES,
  YES_NO,
} from "./shapes/attributes.js";
import { TEMPLATES } from "./shapes/templates.js";

export const SPECIAL_TOKENS = ["<pad>", "<s>", "</s>", "<unk>", "<image>", "<voco>"] as const;
export type SpecialToken = (typeof SPECIAL_TOKENS)[number];

const PUNCTUATION = new Set(["?", ",", "."]);
const SPECIAL_RE = new RegExp(`(${SPECIAL_TOKENS.map((t) => t.replace(/[<>/]/g, (c) => `\\${c}`)).join("|")})`);

/** Split text into tokens (specials kept whole, punctuation separated, words lower-cased). */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(SPECIAL_RE)) {
    if ((SPECIAL_TOKENS as readonly string[]).includes(part)) {
      out.push(part);
      continue;
    }
    for (const word of part.toLowerCase().split(/\s+/)) {
      if (word === "") continue;
      // "left?" -> "left", "?"; punctuation inside a word ("3.5") stays part of it.
      let w = word;
      const tail: string[] = [];
      while (w.length > 0 && PUNCTUATION.has(w[w.length - 1])) {
        tail.unshift(w[w.length - 1]);
        w = w.slice(0, -1);
      }
      if (w) out.push(w);
      out.push(...tail);
    }
  }
  return out;
}

/** Every word the ShapesQA / ShapesVideoQA generators can emit, unsorted, possibly repeated. */
export function generatorWords(): string[] {
  const words: string[] = [];
  for (const t of Object.values(TEMPLATES)) words.push(...tokenize(t.replace(/\{\w+\}/g, " ")));
  for (const r of REGIONS) words.push(...tokenize(r));
  words.push(...COLOURS, ...SHAPES, ...Object.values(SHAPE_PLURALS), ...SIZES, ...DIRECTIONS, ...RELATIONS, ...YES_NO);
  for (let n = 0; n <= MAX_NUMBER; n++) words.push(String(n));
  return words;
}

/** The token that marks a plural shape word in a vocabulary built with the plural suffix. */
export const PLURAL_SUFFIX = "-s";
const SINGULAR_OF = new Map(Object.entries(SHAPE_PLURALS).map(([singular, plural]) => [plural, singular]));
const PLURAL_OF = new Map(Object.entries(SHAPE_PLURALS));

export interface VocabJson {
  version: 1;
  tokens: string[];
}

export class Vocab {
  readonly tokens: readonly string[];
  #ids: Map<string, number>;

  /**
   * Specials, then the generator's words plus `extra`, deduplicated and sorted. With `pluralSuffix`,
   * the plural shape words are replaced by PLURAL_SUFFIX (see the top of this file).
   */
  static build(extra: Iterable<string> = [], opts: { pluralSuffix?: boolean } = {}): Vocab {
    const words = new Set<string>([...generatorWords(), ...extra]);
    for (const s of SPECIAL_TOKENS) words.delete(s);
    if (opts.pluralSuffix === true) {
      for (const p of SINGULAR_OF.keys()) words.delete(p);
      words.add(PLURAL_SUFFIX);
    }
    return new Vocab([...SPECIAL_TOKENS, ...[...words].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))]);
  }

  static fromJSON(json: unknown): Vocab {
    const j = json as Partial<VocabJson> | null;
    if (!j || j.version !== 1 || !Array.isArray(j.tokens) || !j.tokens.every((t) => typeof t === "string"))
      throw new Error('vocab JSON must be {"version": 1, "tokens": [string, ...]}');
    return new Vocab(j.tokens);
  }

  constructor(tokens: readonly string[]) {
    SPECIAL_TOKENS.forEach((s, i) => {
      if (tokens[i] !== s) throw new Error(`vocab token ${i} must be ${s}, got ${tokens[i]}`);
    });
    this.tokens = tokens.slice();
    this.#ids = new Map(tokens.map((t, i) => [t, i]));
    if (this.#ids.size !== tokens.length) throw new Error("vocab has duplicate tokens");
    this.pluralSuffix = this.#ids.has(PLURAL_SUFFIX);
    if (this.pluralSuffix) {
      // plural words beside the suffix are only allowed as the rows of a vocabulary extended by
      // `extended` (the suffix after them): a built vocabulary that has both is a mistake
      const both = [...SINGULAR_OF.keys()].filter((p) => this.#ids.has(p) && this.#ids.get(p)! > this.#ids.get(PLURAL_SUFFIX)!);
      if (both.length > 0) throw new Error(`vocab has both the plural suffix ${PLURAL_SUFFIX} and plural words after it (${both.join(", ")})`);
    }
  }

  /**
   * This vocabulary with `tokens` appended at the end, every old id unchanged (for a trained model
   * whose embedding rows must keep their meaning). Adding PLURAL_SUFFIX switches the encoder to it; the
   * old plural words stay as rows no text encodes to any more.
   */
  extended(tokens: readonly string[]): Vocab {
    const dup = tokens.filter((t) => this.#ids.has(t));
    if (dup.length > 0) throw new Error(`vocab already has ${dup.join(", ")}`);
    return new Vocab([...this.tokens, ...tokens]);
  }

  /** True if plural shape words are encoded as the singular + PLURAL_SUFFIX. */
  readonly pluralSuffix: boolean;

  /** Whole-word replacements the encoder applies after lower-casing (for the tokenizer.json normalizer). */
  replacements(): Record<string, string> {
    return this.pluralSuffix ? Object.fromEntries([...SINGULAR_OF].map(([p, s]) => [p, `${s} ${PLURAL_SUFFIX}`])) : {};
  }

  toJSON(): VocabJson {
    return { version: 1, tokens: this.tokens.slice() };
  }

  get size(): number {
    return this.tokens.length;
  }

  /** Id of a token, or of <unk>. */
  id(token: string): number {
    return this.#ids.get(token) ?? this.#ids.get("<unk>")!;
  }

  has(token: string): boolean {
    return this.#ids.has(token);
  }

  special(t: SpecialToken): number {
    return this.#ids.get(t)!;
  }

  encode(text: string, opts: { bos?: boolean; eos?: boolean } = {}): number[] {
    const words = tokenize(text);
    const split = this.pluralSuffix ? words.flatMap((w) => { const s = SINGULAR_OF.get(w); return s === undefined ? [w] : [s, PLURAL_SUFFIX]; }) : words;
    const ids = split.map((t) => this.id(t));
    if (opts.bos) ids.unshift(this.special("<s>"));
    if (opts.eos) ids.push(this.special("</s>"));
    return ids;
  }

  /** Tokens joined by spaces, with no space before punctuation; `skipSpecial` drops <pad>, <s>, </s>. */
  decode(ids: readonly number[], opts: { skipSpecial?: boolean } = {}): string {
    let out = "", last = "";
    for (const id of ids) {
      const t = this.tokens[id];
      if (t === undefined) throw new Error(`token id ${id} outside vocab of ${this.size}`);
      if (opts.skipSpecial && (t === "<pad>" || t === "<s>" || t === "</s>")) continue;
      const plural = t === PLURAL_SUFFIX ? PLURAL_OF.get(last) : undefined;
      if (plural !== undefined) out = out.slice(0, out.length - last.length) + plural; // "star" "-s" -> "stars"
      else out += out === "" || PUNCTUATION.has(t) ? t : ` ${t}`;
      last = t;
    }
    return out;
  }
}
