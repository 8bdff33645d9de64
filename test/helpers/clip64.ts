// A plain float64 CLIP vision transformer with LLaVA's feature selection, from the formulas with
// loops (independent of src/model/vision.ts): pixels (3, S, S) -> patch features (P, D) of a layer.
import type { CLIPVisionModel } from "../../src/model/vision.js";
import { layerNorm64, softmaxRows64 } from "./ref64.js";

export function clip64(m: CLIPVisionModel, pixels: Float32Array, selectLayer = -2): Float64Array {
  const c = m.cfg, W = new Map(m.namedParameters().map(([n, t]) => [n, Float64Array.from(t.data)]));
  const w = (n: string) => W.get("vision_model." + n)!;
  const S = c.image_size, p = c.patch_size, G = S / p, P = G * G, T = P + 1, D = c.hidden_size, NH = c.num_attention_heads, HS = D / NH;
  const lin = (x: Float64Array, wt: Float64Array, b: Float64Array | null, n: number, inF: number, outF: number) => {
    const y = new Float64Array(n * outF);
    for (let t = 0; t < n; t++) for (let o = 0; o < outF; o++) {
      let s = b ? b[o] : 0;
      for (let i = 0; i < inF; i++) s += x[t * inF + i] * wt[o * inF + i];
      y[t * outF + o] = s;
    }
    return y;
  };
  // conv2d with stride p, weight (D, 3, p, p) flattened as (D, 3*p*p)
  const pw = w("embeddings.patch_embedding.weight");
  let x: Float64Array = new Float64Array(T * D);
  x.set(w("embeddings.class_embedding"), 0);
  for (let gy = 0; gy < G; gy++) for (let gx = 0; gx < G; gx++) for (let d = 0; d < D; d++) {
    let s = 0;
    for (let ch = 0; ch < 3; ch++) for (let ky = 0; ky < p; ky++) for (let kx = 0; kx < p; kx++) {
      s += pixels[(ch * S + gy * p + ky) * S + gx * p + kx] * pw[((d * 3 + ch) * p + ky) * p + kx];
    }
    x[(1 + gy * G + gx) * D + d] = s;
  }
  const pos = w("embeddings.position_embedding.weight");
  x = x.map((v, i) => v + pos[i]);
  x = layerNorm64(x, w("pre_layrnorm.weight"), w("pre_layrnorm.bias"), T, D, c.layer_norm_eps);
  const layers = selectLayer < 0 ? c.num_hidden_layers + 1 + selectLayer : selectLayer;
  for (let l = 0; l < layers; l++) {
    const pre = `encoder.layers.${l}.`;
    const xn = layerNorm64(x, w(pre + "layer_norm1.weight"), w(pre + "layer_norm1.bias"), T, D, c.layer_norm_eps);
    const q = lin(xn, w(pre + "self_attn.q_proj.weight"), w(pre + "self_attn.q_proj.bias"), T, D, D);
    const k = lin(xn, w(pre + "self_attn.k_proj.weight"), w(pre + "self_attn.k_proj.bias"), T, D, D);
    const v = lin(xn, w(pre + "self_attn.v_proj.weight"), w(pre + "self_attn.v_proj.bias"), T, D, D);
    const att = new Float64Array(T * D);
    for (let h = 0; h < NH; h++) for (let t = 0; t < T; t++) {
      const s = new Float64Array(T);
      for (let j = 0; j < T; j++) { let d = 0; for (let e = 0; e < HS; e++) d += q[t * D + h * HS + e] * k[j * D + h * HS + e]; s[j] = d / Math.sqrt(HS); }
      const pr = softmaxRows64(s, 1, T);
      for (let j = 0; j < T; j++) for (let e = 0; e < HS; e++) att[t * D + h * HS + e] += pr[j] * v[j * D + h * HS + e];
    }
    const o = lin(att, w(pre + "self_attn.out_proj.weight"), w(pre + "self_attn.out_proj.bias"), T, D, D);
    const h1 = x.map((xv, i) => xv + o[i]);
    const hn = layerNorm64(h1, w(pre + "layer_norm2.weight"), w(pre + "layer_norm2.bias"), T, D, c.layer_norm_eps);
    const f1 = lin(hn, w(pre + "mlp.fc1.weight"), w(pre + "mlp.fc1.bias"), T, D, c.intermediate_size).map((z) => z / (1 + Math.exp(-1.702 * z)));
    const f2 = lin(f1, w(pre + "mlp.fc2.weight"), w(pre + "mlp.fc2.bias"), T, c.intermediate_size, D);
    x = h1.map((hv, i) => hv + f2[i]);
  }
  return x.slice(D); // drop CLS
}
