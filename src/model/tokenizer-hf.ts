// Hugging Face `tokenizer.json` files (BPE as in LLaMA/Vicuna with byte fallback and the "▁"
// metaspace, Unigram/SentencePiece, WordPiece, and our WordLevel) through @huggingface/tokenizers,
// the pure-JS tokenizers core of transformers.js. This is the only file that imports the package.
// Reads a folder as transformers does: tokenizer.json for the pipeline, tokenizer_config.json (and
// special_tokens_map.json) for which tokens are BOS/EOS/PAD/UNK and for clean-up on decode.
// Not read: SentencePiece `tokenizer.model` protobufs (the original liuhaotian/llava-v1.5-7b ships
// only that; converting it to tokenizer.json once with transformers is the way in).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Tokenizer as PackageTokenizerClass } from "@huggingface/tokenizers";
import {
  SPECIAL_ROLES, SPECIAL_TOKENS_MAP_FILE, TOKENIZER_CONFIG_FILE, TOKENIZER_FILE, withBosEos,
  type DecodeOptions, type EncodeOptions, type SpecialIds, type Tokenizer,
} from "./tokenizer.js";

/**
 * The part of the package's Tokenizer used here. NOTE: the package's published .d.ts files import
 * their siblings without file extensions, which NodeNext resolution cannot follow, so its own types
 * arrive as `any`; this interface is the typed boundary (checked by the tests against the package).
 */
interface PackageTokenizer {
  encode(text: string, options: { add_special_tokens: boolean }): { ids: (number | undefined)[]; tokens: string[] };
  decode(ids: number[], options: { skip_special_tokens: boolean; clean_up_tokenization_spaces: boolean }): string;
  token_to_id(token: string): number | undefined;
  id_to_token(id: number): string | undefined;
  get_vocab(withAddedTokens?: boolean): Map<string, number>;
}
const PackageTokenizer = PackageTokenizerClass as unknown as new (json: object, config: object) => PackageTokenizer;

/** Model types the package implements; anything else it would silently treat as a plain vocab. */
const MODEL_TYPES = new Set(["BPE", "WordLevel", "WordPiece", "Unigram"]);

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** A special token as written in tokenizer_config.json: "<s>" or {"content": "<s>", ...}; null = none. */
function tokenString(v: unknown): string | null | undefined {
  if (v === null) return null;
  if (typeof v === "string") return v;
  if (isObject(v) && typeof v.content === "string") return v.content;
  return undefined;
}

function readJsonObject(path: string): Json {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`${path}: cannot read JSON (${(e as Error).message})`);
  }
  if (!isObject(v)) throw new Error(`${path}: expected a JSON object`);
  return v;
}

export class HfTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly special: Readonly<SpecialIds>;
  /** The tokenizer.json model type: BPE, WordLevel, WordPiece or Unigram. */
  readonly modelType: string;
  #tok: PackageTokenizer;
  #cleanUp: boolean;
  #source: string;

  /**
   * From a parsed tokenizer.json, tokenizer_config.json (`config`) and special_tokens_map.json
   * (`specialMap`).
   */
  constructor(tokenizerJson: unknown, config: Json = {}, specialMap: Json = {}, source = TOKENIZER_FILE) {
    this.#source = source;
    if (!isObject(tokenizerJson) || !isObject(tokenizerJson.model)) throw new Error(`${source}: not a tokenizer.json (no "model" object)`);
    const model = tokenizerJson.model;
    if (typeof model.type !== "string" || !MODEL_TYPES.has(model.type)) {
      throw new Error(`${source}: model type ${JSON.stringify(model.type)} is not supported (${[...MODEL_TYPES].join(", ")})`);
    }
    this.modelType = model.type;
    // The package insists on every pipeline field; tokenizers writes them all, null when unused.
    const json = { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, ...tokenizerJson, added_tokens: tokenizerJson.added_tokens ?? [] };
    // The package's WordLevel path takes its unknown token from the config, not from the model.
    const cfg = { ...config };
    if (model.type === "WordLevel" && cfg.unk_token === undefined && typeof model.unk_token === "string") cfg.unk_token = model.unk_token;
    this.#tok = new PackageTokenizer(json, cfg);
    // transformers >= 4.45 defaults clean-up to off; older configs without the field meant on.
    this.#cleanUp = config.clean_up_tokenization_spaces === true;
    let maxId = -1;
    for (const id of this.#tok.get_vocab(true).values()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;
    this.special = this.#specials(config, specialMap);
  }

  /** Reads tokenizer.json, plus tokenizer_config.json and special_tokens_map.json when present. */
  static fromDir(dir: string): HfTokenizer {
    const opt = (f: string) => (existsSync(join(dir, f)) ? readJsonObject(join(dir, f)) : {});
    const path = join(dir, TOKENIZER_FILE);
    return new HfTokenizer(readJsonObject(path), opt(TOKENIZER_CONFIG_FILE), opt(SPECIAL_TOKENS_MAP_FILE), path);
  }

  /**
   * Role ids: the token special_tokens_map.json names, else tokenizer_config.json (that precedence is
   * transformers'), null meaning none; else the conventional string, if the vocabulary has it.
   */
  #specials(config: Json, specialMap: Json): SpecialIds {
    const out: SpecialIds = {};
    for (const [conventional, role] of Object.entries(SPECIAL_ROLES)) {
      const key = `${role}_token`;
      const fromMap = tokenString(specialMap[key]), fromConfig = tokenString(config[key]);
      const name = fromMap !== undefined ? fromMap : fromConfig !== undefined ? fromConfig : conventional;
      const id = name === null ? undefined : this.#tok.token_to_id(name);
      if (id !== undefined) out[role] = id;
    }
    return out;
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const { ids, tokens } = this.#tok.encode(text, { add_special_tokens: false });
    const missing = ids.findIndex((id) => id === undefined);
    if (missing >= 0) throw new Error(`${this.#source}: token ${JSON.stringify(tokens[missing])} has no id and the tokenizer has no unknown token`);
    return withBosEos(ids as number[], this.special, opts);
  }

  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    const bad = ids.find((id) => !Number.isInteger(id) || id < 0 || id >= this.vocabSize);
    if (bad !== undefined) throw new Error(`decode: id ${bad} outside the vocabulary of ${this.vocabSize}`);
    if (ids.length === 0) return ""; // the package throws on an empty list
    return this.#tok.decode([...ids], { skip_special_tokens: opts.skipSpecial ?? false, clean_up_tokenization_spaces: this.#cleanUp });
  }

  tokenToId(token: string): number | undefined {
    return this.#tok.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.#tok.id_to_token(id);
  }
}

/** Loads the tokenizer of a HF folder (ours or a real checkpoint's): tokenizer.json is required. */
export function loadTokenizer(dir: string): HfTokenizer {
  if (!existsSync(join(dir, TOKENIZER_FILE))) {
    const sp = existsSync(join(dir, "tokenizer.model"));
    throw new Error(`${dir}: no ${TOKENIZER_FILE}${sp ? " (only a SentencePiece tokenizer.model, which is not read here: convert it once with transformers, AutoTokenizer.from_pretrained(dir).save_pretrained(dir))" : ""}`);
  }
  return HfTokenizer.fromDir(dir);
}
