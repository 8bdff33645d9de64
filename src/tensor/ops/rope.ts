// Rotary position embedding on (B, T, NH, HS) with explicit position ids, Hugging Face rotate-half
// convention. Explicit ids (not 0..T-1) serve KV-cache decoding (an offset), pruned tokens that keep
// their original positions (ATP, FastV), and VoCo's stage 2 continuing after the compressed prefix.
import { K } from "../../kernels/index.js";
import { record } from "../autograd.js";
import { fmt, OpError } from "../shape.js";
import { Tensor } from "../tensor.js";

/** x: (B, T, NH, HS), pos: (B*T) position ids. The backward is the inverse rotation. */
export function rope(x: Tensor, pos: Int32Array, theta: number): Tensor {
  if (x.ndim !== 4) throw new OpError("rope", `x must be (B, T, NH, HS), got ${fmt(x.shape)}`);
  const [B, T, NH, HS] = x.shape;
  if (HS % 2 !== 0) throw new OpError("rope", `head size ${HS} must be even`);
  if (pos.length !== B * T) throw new OpError("rope", `pos has ${pos.length} ids, x ${fmt(x.shape)} needs B*T = ${B * T}`);
  const out = Tensor.zeros(x.shape);
  K().rope(out.data, x.data, pos, B * T, NH, HS, theta, false);
  return record(out, "rope", [x], (g) => {
    const dx = Tensor.zeros(x.shape);
    K().rope(dx.data, g.data, pos, B * T, NH, HS, theta, true); // rotation is orthogonal: R^T = R(-angle)
    return [dx];
  });
}
