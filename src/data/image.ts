// In-memory RGB images (HWC, 8-bit) and the few pixel operations the data pipeline needs.
//
// `RgbImage` is what the renderer, the PNG/JPEG readers and the contact sheet exchange. Resizing is
// bilinear with an area pre-filter when shrinking (so loaded photos can be brought to the model's
// input size), and `toFloat` converts to the Float32 layout a vision tower consumes.
// Not here: file formats (image-io.ts, Node only), drawing shapes (shapes/render.ts).

export interface RgbImage {
  width: number;
  height: number;
  /** HWC, RGB, 0..255; length width * height * 3. */
  data: Uint8Array;
}

export function createImage(width: number, height: number, fill: readonly [number, number, number] = [0, 0, 0]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(fill, i * 3);
  return { width, height, data };
}

/** Copy `src` into `dst` with its top-left corner at (x, y); parts outside `dst` are clipped. */
export function blit(dst: RgbImage, src: RgbImage, x: number, y: number): void {
  for (let sy = 0; sy < src.height; sy++) {
    const dy = y + sy;
    if (dy < 0 || dy >= dst.height) continue;
    const sx0 = Math.max(0, -x), sx1 = Math.min(src.width, dst.width - x);
    if (sx1 <= sx0) continue;
    const from = (sy * src.width + sx0) * 3, to = (sy * src.width + sx1) * 3;
    dst.data.set(src.data.subarray(from, to), (dy * dst.width + x + sx0) * 3);
  }
}

/**
 * Resize to width x height. Shrinking by a factor k > 1 first box-averages k x k blocks (integer part),
 * then interpolates bilinearly with pixel-centre alignment (like PIL's BILINEAR for moderate ratios).
 */
export function resizeImage(img: RgbImage, width: number, height: number): RgbImage {
  if (img.width === width && img.height === height) return { width, height, data: img.data.slice() };
  const kx = Math.max(1, Math.floor(img.width / width)), ky = Math.max(1, Math.floor(img.height / height));
  const src = kx > 1 || ky > 1 ? boxShrink(img, kx, ky) : img;
  const out = new Uint8Array(width * height * 3);
  const sx = src.width / width, sy = src.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(src.height - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy), y1 = Math.min(src.height - 1, y0 + 1), wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(src.width - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx), x1 = Math.min(src.width - 1, x0 + 1), wx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const p = (r: number, q: number) => src.data[(r * src.width + q) * 3 + c];
        const top = p(y0, x0) * (1 - wx) + p(y0, x1) * wx;
        const bot = p(y1, x0) * (1 - wx) + p(y1, x1) * wx;
        out[(y * width + x) * 3 + c] = Math.round(top * (1 - wy) + bot * wy);
      }
    }
  }
  return { width, height, data: out };
}

function boxShrink(img: RgbImage, kx: number, ky: number): RgbImage {
  const w = Math.floor(img.width / kx), h = Math.floor(img.height / ky);
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let j = 0; j < ky; j++)
          for (let i = 0; i < kx; i++) s += img.data[((y * ky + j) * img.width + x * kx + i) * 3 + c];
        out[(y * w + x) * 3 + c] = Math.round(s / (kx * ky));
      }
  return { width: w, height: h, data: out };
}

/**
 * Float32 copy normalised per channel: (v / 255 - mean[c]) / std[c]. Layout "hwc" keeps the input
 * order; "chw" is channel-major (C, H, W).
 */
export function toFloat(
  img: RgbImage,
  layout: "hwc" | "chw" = "hwc",
  mean: readonly number[] = [0, 0, 0],
  std: readonly number[] = [1, 1, 1],
): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(n * 3);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < 3; c++) {
      const v = (img.data[i * 3 + c] / 255 - mean[c]) / std[c];
      out[layout === "hwc" ? i * 3 + c : c * n + i] = v;
    }
  return out;
}
