// Contact sheets: generated examples laid out on one image, with their questions and answers drawn
// beside them in the 5x7 bitmap font, so a person can check the data at a glance.
//
// Images: a grid of cells, each cell = the image, then its Q/A text to the right. Videos: one row per
// clip = its frames left to right (numbered), Q/A text below. Pure pixels, no fs (see image-io.ts).
// Not here: rendering scenes (shapes/render.ts), writing the PNG (image-io.ts).

import { GLYPH_H, GLYPH_W, glyphRows } from "./font5x7.js";
import { blit, createImage, type RgbImage } from "./image.js";
import type { Example } from "./stream.js";

type Rgb = readonly [number, number, number];

export const TEXT_COLOUR: Rgb = [230, 230, 230];
export const ANSWER_COLOUR: Rgb = [255, 210, 60];
export const DIM_COLOUR: Rgb = [140, 140, 150];
const SHEET_BG: Rgb = [18, 18, 24];

export interface TextLine {
  text: string;
  colour: Rgb;
}

/** Draw `text` with its top-left at (x, y); each font pixel becomes scale x scale pixels. */
export function drawText(img: RgbImage, text: string, x: number, y: number, colour: Rgb, scale = 1): void {
  for (let k = 0; k < text.length; k++) {
    const rows = glyphRows(text[k]);
    const gx = x + k * (GLYPH_W + 1) * scale;
    for (let r = 0; r < GLYPH_H; r++)
      for (let c = 0; c < GLYPH_W; c++) {
        if (!(rows[r] & (1 << (GLYPH_W - 1 - c)))) continue;
        for (let dy = 0; dy < scale; dy++)
          for (let dx = 0; dx < scale; dx++) {
            const px = gx + c * scale + dx, py = y + r * scale + dy;
            if (px >= 0 && py >= 0 && px < img.width && py < img.height) img.data.set(colour, (py * img.width + px) * 3);
          }
      }
  }
}

export function lineHeight(scale: number): number {
  return (GLYPH_H + 3) * scale;
}

/** Greedy word wrap to at most `width` characters per line (long words are cut). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let cur = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    for (let w = word; w.length > 0; ) {
      const piece = w.slice(0, width);
      w = w.slice(width);
      if (cur === "") cur = piece;
      else if (cur.length + 1 + piece.length <= width) cur += ` ${piece}`;
      else {
        lines.push(cur);
        cur = piece;
      }
    }
  }
  if (cur !== "") lines.push(cur);
  return lines;
}

/** The id, then per question "[type] question" wrapped and "= answer" in the answer colour. */
export function exampleLines(ex: Example, widthChars: number): TextLine[] {
  const out: TextLine[] = [{ text: ex.id, colour: DIM_COLOUR }];
  for (const qa of ex.qa) {
    for (const t of wrap(`[${qa.type}] ${qa.question}`, widthChars)) out.push({ text: t, colour: TEXT_COLOUR });
    out.push({ text: `  = ${qa.answer}`, colour: ANSWER_COLOUR });
  }
  return out;
}

function drawLines(img: RgbImage, lines: TextLine[], x: number, y: number, scale: number): void {
  lines.forEach((l, i) => drawText(img, l.text, x, y + i * lineHeight(scale), l.colour, scale));
}

export interface SheetOptions {
  /** Cells per row for images (default 2). */
  columns?: number;
  /** Font scale (default 2: 12 px per character). */
  textScale?: number;
  /** Characters per text line (default 44). */
  textChars?: number;
  title?: string;
}

const PAD = 12;

/** Lay out rendered examples (images or clips) with their Q/A text. */
export function contactSheet(examples: Example[], opts: SheetOptions = {}): RgbImage {
  if (examples.some((e) => e.frames.length === 0)) throw new Error("contact sheet needs rendered examples");
  const scale = opts.textScale ?? 2, chars = opts.textChars ?? 44;
  const textW = chars * (GLYPH_W + 1) * scale;
  const lh = lineHeight(scale);
  const isVideo = examples.some((e) => e.kind === "video");
  const columns = isVideo ? 1 : Math.max(1, opts.columns ?? 2);
  const cells = examples.map((ex) => {
    const frameW = ex.frames.length * (ex.width + 4);
    const lines = exampleLines(ex, isVideo ? Math.max(chars, Math.floor(frameW / ((GLYPH_W + 1) * scale))) : chars);
    const w = isVideo ? Math.max(frameW, textW) : ex.width + PAD + textW;
    const h = isVideo ? ex.height + lh + lines.length * lh : Math.max(ex.height, lines.length * lh);
    return { ex, lines, w, h };
  });
  const cellW = Math.max(...cells.map((c) => c.w));
  const rows: (typeof cells)[] = [];
  for (let i = 0; i < cells.length; i += columns) rows.push(cells.slice(i, i + columns));
  const titleH = opts.title ? lh + PAD : 0;
  const rowH = rows.map((r) => Math.max(...r.map((c) => c.h)));
  const sheet = createImage(
    PAD + columns * (cellW + PAD),
    PAD + titleH + rowH.reduce((a, b) => a + b + PAD, 0),
    SHEET_BG,
  );
  if (opts.title) drawText(sheet, opts.title, PAD, PAD, TEXT_COLOUR, scale);
  let y = PAD + titleH;
  rows.forEach((row, ri) => {
    row.forEach((c, ci) => drawCell(sheet, c.ex, c.lines, PAD + ci * (cellW + PAD), y, scale));
    y += rowH[ri] + PAD;
  });
  return sheet;
}

function drawCell(sheet: RgbImage, ex: Example, lines: TextLine[], x: number, y: number, scale: number): void {
  const frame = (i: number): RgbImage => ({ width: ex.width, height: ex.height, data: ex.frames[i] });
  if (ex.kind === "image") {
    blit(sheet, frame(0), x, y);
    drawLines(sheet, lines, x + ex.width + PAD, y, scale);
    return;
  }
  for (let f = 0; f < ex.frames.length; f++) {
    blit(sheet, frame(f), x + f * (ex.width + 4), y);
    drawText(sheet, String(f + 1), x + f * (ex.width + 4) + 2, y + ex.height + 2, DIM_COLOUR, 1);
  }
  drawLines(sheet, lines, x, y + ex.height + lineHeight(scale), scale);
}
