// VoCo for video (research/voco-llama.md section 5): every frame is compressed on its own into N
// VoCo tokens, Cache(VoCo_t) = LM(V_t, VoCo_t), and the frame caches are concatenated in time order.
// Positions (the paper leaves them open; official issue #28): frame t's VoCo tokens are placed at
// start + t*N + i, consecutive in time order, and the text continues after the last frame. A cache
// stores post-RoPE keys with their positions, so placing it is a rotation of its keys by the position
// shift (RoPE composes: R(p + d) = R(d) R(p)); values do not depend on position. A frame's cache can
// therefore be computed once and reused at any place in any video.
import { K } from "../../kernels/index.js";
import type { LlavaForCausalLM } from "../../model/vlm.js";
import { compressImage, modelFingerprint, VocoCache } from "./cache.js";

export interface VocoIds {
  bos: number;
  image: number;
  voco: number;
}

/** Moves a cache's entries to positions start, start+1, ... by rotating its keys. */
export function placeCache(c: VocoCache, start: number, theta: number): VocoCache {
  const delta = Int32Array.from(c.positions, (p, i) => start + i - p);
  const k = c.k.map((layer) => {
    const out = new Float32Array(layer.length);
    K().rope(out, layer, delta, c.N, c.NKV, c.HS, theta, false); // (N, NKV, HS): rotate each key by its shift
    return out;
  });
  const positions = Int32Array.from({ length: c.N }, (_, i) => start + i);
  return new VocoCache(c.modelId, c.N, c.NKV, c.HS, k, c.v.map((v) => v.slice()), positions, start + c.N);
}

/** Concatenates caches in order, placing them back to back from `start`. */
export function concatCaches(caches: readonly VocoCache[], start: number, theta: number): VocoCache {
  if (caches.length === 0) throw new Error("concatCaches: no caches");
  const placed: VocoCache[] = [];
  let at = start;
  for (const c of caches) {
    if (c.modelId !== caches[0].modelId) throw new Error("concatCaches: the caches come from different models");
    placed.push(placeCache(c, at, theta));
    at += c.N;
  }
  const L = placed[0].k.length, first = placed[0];
  const cat = (get: (c: VocoCache) => Float32Array[], l: number) => {
    const out = new Float32Array(placed.reduce((s, c) => s + get(c)[l].length, 0));
    let o = 0;
    for (const c of placed) { out.set(get(c)[l], o); o += get(c)[l].length; }
    return out;
  };
  const N = placed.reduce((s, c) => s + c.N, 0);
  const positions = new Int32Array(N);
  let o = 0;
  for (const c of placed) { positions.set(c.positions, o); o += c.N; }
  return new VocoCache(first.modelId, N, first.NKV, first.HS,
    Array.from({ length: L }, (_, l) => cat((c) => c.k, l)), Array.from({ length: L }, (_, l) => cat((c) => c.v, l)), positions, at);
}

/**
 * Compresses a clip frame by frame ([BOS, frame, VoCo x N] each) and concatenates the caches in time
 * order, the first frame's VoCo tokens at the position they have in a single image's layout.
 */
export function compressVideo(model: LlavaForCausalLM, frames: readonly Float32Array[], N: number, ids: VocoIds): VocoCache {
  const id = modelFingerprint(model);
  const prefix = [ids.bos, ids.image, ...Array<number>(N).fill(ids.voco)];
  const caches = frames.map((f) => compressImage(model, prefix, f, id));
  return concatCaches(caches, caches[0].positions[0], model.cfg.rope_theta);
}
