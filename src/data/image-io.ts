// Image files for the data pipeline (Node only): PNG read/write through pngjs, JPEG read through
// the optional `jpeg-js` package.
//
// Everything is converted to `RgbImage` (HWC, 8-bit RGB). Alpha is composited over white (what an
// image viewer shows for a transparent PNG) and dropped; 16-bit PNGs are reduced to 8 bits by pngjs.
// Not here: resizing and normalisation (image.ts), the LLaVA record format (llava-json.ts).

import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { extname } from "node:path";
import { PNG } from "pngjs";
import type { RgbImage } from "./image.js";

/** Encode an RGB image as PNG bytes. */
export function encodePng(img: RgbImage): Buffer {
  checkImage(img);
  const png = new PNG({ width: img.width, height: img.height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
}

/** Decode PNG bytes (any colour type / bit depth pngjs supports) to RGB. */
export function decodePng(bytes: Uint8Array, name = "<buffer>"): RgbImage {
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    throw new Error(`${name}: not a readable PNG (${(e as Error).message})`);
  }
  return rgbaToRgb(png.width, png.height, png.data);
}

export function writePng(path: string, img: RgbImage): void {
  writeFileSync(path, encodePng(img));
}

/** Read a PNG or JPEG file (chosen by its magic bytes, not its extension). */
export function readImage(path: string): RgbImage {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`${path}: cannot read image (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (isPng(bytes)) return decodePng(bytes, path);
  if (isJpeg(bytes)) return decodeJpeg(bytes, path);
  throw new Error(`${path}: unsupported image format (extension ${extname(path) || "none"}; expected PNG or JPEG)`);
}

export function isPng(b: Uint8Array): boolean {
  return b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
}

export function isJpeg(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

/** The part of jpeg-js's API used here (the package ships its own types; this keeps it optional). */
interface JpegJs {
  decode(
    data: Uint8Array,
    opts: { useTArray: boolean; formatAsRGBA: boolean; maxMemoryUsageInMB?: number },
  ): { width: number; height: number; data: Uint8Array };
}

let jpegJs: JpegJs | null | undefined;

/** Decode JPEG bytes with jpeg-js; a clear error says how to enable it when it is not installed. */
export function decodeJpeg(bytes: Uint8Array, name = "<buffer>"): RgbImage {
  if (jpegJs === undefined) {
    try {
      jpegJs = createRequire(import.meta.url)("jpeg-js") as JpegJs;
    } catch {
      jpegJs = null;
    }
  }
  if (!jpegJs) throw new Error(`${name}: JPEG images need the optional package jpeg-js (npm install jpeg-js)`);
  let dec: { width: number; height: number; data: Uint8Array };
  try {
    dec = jpegJs.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
  } catch (e) {
    throw new Error(`${name}: not a readable JPEG (${(e as Error).message})`);
  }
  return rgbaToRgb(dec.width, dec.height, dec.data);
}

/** Drop alpha after compositing over white. */
function rgbaToRgb(width: number, height: number, rgba: Uint8Array): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < width * height; i++, j += 4) {
    const a = rgba[j + 3];
    for (let c = 0; c < 3; c++)
      data[i * 3 + c] = a === 255 ? rgba[j + c] : Math.round((rgba[j + c] * a + 255 * (255 - a)) / 255);
  }
  return { width, height, data };
}

function checkImage(img: RgbImage): void {
  if (!(img.width > 0 && img.height > 0) || img.data.length !== img.width * img.height * 3)
    throw new Error(`bad image: ${img.width}x${img.height} with ${img.data.length} bytes (expected w*h*3)`);
}
