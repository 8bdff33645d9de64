// Module naming, state dicts and freezing; Linear against a float64 reference.
import { describe, expect, it } from "vitest";
import { Linear } from "../../src/nn/layers.js";
import { LlamaForCausalLM } from "../../src/model/llama.js";
import { llamaConfigFromDict } from "../../src/model/config.js";
import { Rng, Tensor, withoutInit } from "../../src/tensor/index.js";
import { checkOp } from "../helpers/gradcheck.js";
import { matmul64 } from "../helpers/ref64.js";
import { randArray } from "../helpers/random.js";

const tinyCfg = llamaConfigFromDict({
  vocab_size: 11, hidden_size: 8, intermediate_size: 16, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1,
});

describe("Module", () => {
  it("names parameters as Hugging Face checkpoints do", () => {
    const m = new LlamaForCausalLM(tinyCfg, 1);
    const names = m.namedParameters().map(([n]) => n);
    expect(names).toContain("model.embed_tokens.weight");
    expect(names).toContain("model.layers.1.self_attn.k_proj.weight");
    expect(names).toContain("model.layers.0.mlp.gate_proj.weight");
    expect(names).toContain("model.layers.0.post_attention_layernorm.weight");
    expect(names).toContain("model.norm.weight");
    expect(names).toContain("lm_head.weight");
    expect(m.namedParameters().find(([n]) => n === "model.layers.1.self_attn.k_proj.weight")?.[1].shape).toEqual([4, 8]);
    expect(new Set(names).size).toBe(names.length);
  });

  it("round-trips a state dict bit-exactly and rejects wrong shapes and names", () => {
    const a = new LlamaForCausalLM(tinyCfg, 1), b = new LlamaForCausalLM(tinyCfg, 2);
    b.loadStateDict(a.stateDict());
    for (const [n, t] of a.stateDict()) expect(b.stateDict().get(n)?.data).toEqual(t.data);
    const bad = new Map(a.stateDict());
    bad.set("lm_head.weight", Tensor.zeros([3, 3]));
    expect(() => b.loadStateDict(bad)).toThrow(/lm_head.weight: checkpoint \(3, 3\) vs model \(11, 8\)/);
    const missing = new Map(a.stateDict());
    missing.delete("model.norm.weight");
    expect(() => b.loadStateDict(missing)).toThrow(/missing: \[model.norm.weight\]/);
    expect(b.loadStateDict(missing, false).missing).toEqual(["model.norm.weight"]);
  });

  it("frozen parameters stay in the state dict but get no gradient", () => {
    const m = new LlamaForCausalLM(tinyCfg, 1);
    m.model.setTrainable(false);
    expect(m.trainableParameters().map(([n]) => n)).toEqual(["lm_head.weight"]);
    expect(m.stateDict().size).toBe(m.namedParameters().length);
    const logits = m.forward(Int32Array.from([1, 2, 3]), 1, 3);
    logits.backward(Tensor.full(logits.shape, 1));
    expect(m.model.embed_tokens.weight.grad).toBeNull();
    expect(m.lm_head.weight.grad).not.toBeNull();
  });

  it("Linear computes x·Wᵀ + b over any leading axes", () => {
    const lin = new Linear(5, 3, true, { rng: new Rng(3), std: 0.5 });
    lin.bias?.data.set([0.1, -0.2, 0.3]);
    const W = Float64Array.from(lin.weight.data), bias = [0.1, -0.2, 0.3];
    checkOp({
      label: "Linear",
      inputs: [{ shape: [2, 4, 5], data: randArray(40, 1) }],
      op: ([x]) => lin.forward(x),
      ref: ([x]) => matmul64(x, W, 8, 5, 3, false, true).map((v, i) => v + bias[i % 3]),
    });
    expect(() => lin.forward(Tensor.zeros([2, 4]))).toThrow(/Linear: input \(2, 4\) has last axis 4, expected 5/);
  });

  it("config errors name the field", () => {
    expect(() => llamaConfigFromDict({ vocab_size: "x", num_attention_heads: 2 })).toThrow(/field "vocab_size" must be a number/);
    expect(() => llamaConfigFromDict({ vocab_size: 4, hidden_size: 6, intermediate_size: 4, num_hidden_layers: 1, num_attention_heads: 4 }))
      .toThrow(/hidden_size 6 is not divisible by num_attention_heads 4/);
  });
});

describe("withoutInit", () => {
  it("builds with zero weights (nested, and restored after a throw); a strict load then gives the saved model", () => {
    const isZero = (t: Tensor): boolean => t.data.every((x) => x === 0);
    const empty = withoutInit(() => new LlamaForCausalLM(tinyCfg, 1));
    const normsAreOne = [...empty.namedParameters()].filter(([n]) => n.endsWith("norm.weight"));
    expect(normsAreOne.length).toBeGreaterThan(0); // norms start at 1, not drawn: untouched
    for (const [name, p] of empty.namedParameters()) expect(isZero(p) || name.endsWith("norm.weight")).toBe(true);
    expect(withoutInit(() => withoutInit(() => isZero(Tensor.uniform([5], new Rng(2)))) && isZero(Tensor.randn([5], new Rng(2))))).toBe(true);
    expect(() => withoutInit(() => { throw new Error("boom"); })).toThrow("boom");
    expect(isZero(Tensor.randn([5], new Rng(2)))).toBe(false); // back to drawing after the throw and the nesting

    const saved = new LlamaForCausalLM(tinyCfg, 1);
    empty.loadStateDict(saved.stateDict());
    for (const [name, p] of saved.namedParameters()) expect(empty.stateDict().get(name)?.data).toEqual(p.data);
    const partial = new Map([...saved.stateDict()].slice(1)); // what makes skipping safe: a missing weight is an error
    expect(() => withoutInit(() => new LlamaForCausalLM(tinyCfg, 1)).loadStateDict(partial)).toThrow(/missing/);
  });
});
