import { afterAll, describe, expect, test } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { decodeJpeg, decodePng, encodePng, readImage, writePng } from "../../src/data/image-io.js";
import { resizeImage, toFloat, type RgbImage } from "../../src/data/image.js";
import { makeExample } from "../../src/data/stream.js";

const dir = mkdtempSync(join(tmpdir(), "vlmc-image-io-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function noiseImage(w: number, h: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7919 + (i >> 3) * 104729) & 255;
  return { width: w, height: h, data };
}

describe("image-io", () => {
  test("PNG round trip is lossless (generated image and arbitrary bytes)", () => {
    const ex = makeExample("image", 0, { split: "train" });
    const img = { width: 192, height: 192, data: ex.frames[0] };
    writePng(join(dir, "a.png"), img);
    const back = readImage(join(dir, "a.png"));
    expect([back.width, back.height]).toEqual([192, 192]);
    expect(Buffer.compare(Buffer.from(back.data), Buffer.from(img.data))).toBe(0);
    const odd = noiseImage(13, 7);
    expect(decodePng(encodePng(odd)).data).toEqual(odd.data);
  });

  test("RGBA and greyscale PNGs from other writers decode to RGB (alpha over white)", () => {
    const png = new PNG({ width: 2, height: 1 });
    png.data = Buffer.from([10, 20, 30, 255, 200, 0, 0, 0]);
    const rgb = decodePng(PNG.sync.write(png));
    expect(Array.from(rgb.data)).toEqual([10, 20, 30, 255, 255, 255]);
    const grey = new PNG({ width: 1, height: 1, colorType: 0 });
    grey.data = Buffer.from([77, 77, 77, 255]);
    expect(Array.from(decodePng(PNG.sync.write(grey, { colorType: 0 })).data)).toEqual([77, 77, 77]);
  });

  test("unreadable inputs name the file", () => {
    writeFileSync(join(dir, "junk.png"), "not an image");
    expect(() => readImage(join(dir, "junk.png"))).toThrow(/junk\.png: unsupported image format/);
    expect(() => readImage(join(dir, "nope.png"))).toThrow(/nope\.png: cannot read image \(ENOENT\)/);
    const truncated = encodePng(noiseImage(8, 8)).subarray(0, 40);
    writeFileSync(join(dir, "cut.png"), truncated);
    expect(() => readImage(join(dir, "cut.png"))).toThrow(/cut\.png/);
  });

  test("JPEG through jpeg-js when installed, otherwise a clear message", () => {
    let jpeg: { encode(img: { data: Uint8Array; width: number; height: number }, q: number): { data: Uint8Array } } | null = null;
    try {
      jpeg = createRequire(import.meta.url)("jpeg-js");
    } catch {
      jpeg = null;
    }
    const soi = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]);
    if (!jpeg) {
      writeFileSync(join(dir, "x.jpg"), soi);
      expect(() => readImage(join(dir, "x.jpg"))).toThrow(/x\.jpg: JPEG images need the optional package jpeg-js/);
      return;
    }
    const rgba = new Uint8Array(16 * 16 * 4).fill(128);
    writeFileSync(join(dir, "g.jpg"), jpeg.encode({ data: rgba, width: 16, height: 16 }, 95).data);
    const img = readImage(join(dir, "g.jpg"));
    expect([img.width, img.height]).toEqual([16, 16]);
    expect(Math.abs(img.data[0] - 128)).toBeLessThan(4);
    expect(() => decodeJpeg(soi, "bad.jpg")).toThrow(/bad\.jpg/);
  });

  test("resize and toFloat", () => {
    const img = noiseImage(64, 48);
    const same = resizeImage(img, 64, 48);
    expect(same.data).toEqual(img.data);
    const flat: RgbImage = { width: 50, height: 30, data: new Uint8Array(50 * 30 * 3).fill(200) };
    const small = resizeImage(flat, 7, 5);
    expect(small.data.every((v) => v === 200)).toBe(true);
    const big = resizeImage(flat, 101, 61);
    expect(big.data.every((v) => v === 200)).toBe(true);
    const f = toFloat({ width: 1, height: 2, data: Uint8Array.from([255, 0, 51, 0, 255, 102]) }, "chw");
    expect(Array.from(f).map((v) => +v.toFixed(3))).toEqual([1, 0, 0, 1, 0.2, 0.4]);
  });
});
