// Model configs with Hugging Face field names, so a `config.json` maps 1:1. `fromDict` ignores
// unknown keys (real configs carry many) and computes derived defaults in one place.

export interface LlamaConfig {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  rms_norm_eps: number;
  rope_theta: number;
  max_position_embeddings: number;
  initializer_range: number;
}

const LLAMA_DEFAULTS: Omit<LlamaConfig, "vocab_size" | "hidden_size" | "intermediate_size" | "num_hidden_layers" | "num_attention_heads" | "num_key_value_heads"> = {
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  max_position_embeddings: 2048,
  initializer_range: 0.02,
};

function num(d: Record<string, unknown>, key: string, where: string, fallback?: number): number {
  const v = d[key] ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new Error(`${where}: field "${key}" must be a number, got ${JSON.stringify(d[key])}`);
  }
  return v;
}

/** Builds a LlamaConfig from a parsed config.json (unknown keys ignored, missing optional ones defaulted). */
export function llamaConfigFromDict(d: Record<string, unknown>, where = "config"): LlamaConfig {
  const heads = num(d, "num_attention_heads", where);
  const c: LlamaConfig = {
    vocab_size: num(d, "vocab_size", where),
    hidden_size: num(d, "hidden_size", where),
    intermediate_size: num(d, "intermediate_size", where),
    num_hidden_layers: num(d, "num_hidden_layers", where),
    num_attention_heads: heads,
    num_key_value_heads: num(d, "num_key_value_heads", where, heads),
    rms_norm_eps: num(d, "rms_norm_eps", where, LLAMA_DEFAULTS.rms_norm_eps),
    rope_theta: num(d, "rope_theta", where, LLAMA_DEFAULTS.rope_theta),
    max_position_embeddings: num(d, "max_position_embeddings", where, LLAMA_DEFAULTS.max_position_embeddings),
    initializer_range: num(d, "initializer_range", where, LLAMA_DEFAULTS.initializer_range),
  };
  if (c.hidden_size % c.num_attention_heads !== 0) {
    throw new Error(`${where}: hidden_size ${c.hidden_size} is not divisible by num_attention_heads ${c.num_attention_heads}`);
  }
  if (c.num_attention_heads % c.num_key_value_heads !== 0) {
    throw new Error(`${where}: num_attention_heads ${c.num_attention_heads} is not divisible by num_key_value_heads ${c.num_key_value_heads}`);
  }
  if ((c.hidden_size / c.num_attention_heads) % 2 !== 0) throw new Error(`${where}: head size must be even for RoPE`);
  return c;
}
