// A small scatter-plot writer (SVG): points with labels, axes with ticks. Enough for accuracy
// against FLOPs; no dependency needed for a few dozen points.

export interface PlotPoint {
  x: number;
  y: number;
  label: string;
  group: string;
}

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function ticks(lo: number, hi: number, n = 5): number[] {
  const step = (hi - lo) / n;
  return Array.from({ length: n + 1 }, (_, i) => lo + i * step);
}

export function scatterSvg(points: readonly PlotPoint[], o: { title: string; xLabel: string; yLabel: string; width?: number; height?: number }): string {
  const W = o.width ?? 720, H = o.height ?? 480, m = { l: 70, r: 200, t: 40, b: 55 };
  const xs = points.map((p) => p.x), ys = points.map((p) => p.y);
  const x0 = Math.min(0, ...xs), x1 = Math.max(...xs) * 1.05 || 1, y0 = Math.max(0, Math.min(...ys) - 0.05), y1 = Math.min(1, Math.max(...ys) + 0.05);
  const px = (x: number) => m.l + ((x - x0) / (x1 - x0 || 1)) * (W - m.l - m.r);
  const py = (y: number) => H - m.b - ((y - y0) / (y1 - y0 || 1)) * (H - m.t - m.b);
  const groups = [...new Set(points.map((p) => p.group))];
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`, `<text x="${W / 2 - m.r / 2}" y="22" text-anchor="middle" font-size="15">${esc(o.title)}</text>`];
  for (const t of ticks(x0, x1)) out.push(`<line x1="${px(t)}" y1="${H - m.b}" x2="${px(t)}" y2="${m.t}" stroke="#eee"/><text x="${px(t)}" y="${H - m.b + 16}" text-anchor="middle">${t.toPrecision(3)}</text>`);
  for (const t of ticks(y0, y1)) out.push(`<line x1="${m.l}" y1="${py(t)}" x2="${W - m.r}" y2="${py(t)}" stroke="#eee"/><text x="${m.l - 6}" y="${py(t) + 4}" text-anchor="end">${(100 * t).toFixed(0)}%</text>`);
  out.push(`<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="black"/><line x1="${m.l}" y1="${H - m.b}" x2="${m.l}" y2="${m.t}" stroke="black"/>`);
  out.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
  points.forEach((p) => {
    const c = COLOURS[groups.indexOf(p.group) % COLOURS.length];
    out.push(`<circle cx="${px(p.x)}" cy="${py(p.y)}" r="5" fill="${c}"/><text x="${px(p.x) + 7}" y="${py(p.y) - 6}" font-size="10">${esc(p.label)}</text>`);
  });
  groups.forEach((g, i) => out.push(`<circle cx="${W - m.r + 20}" cy="${m.t + 20 * i + 10}" r="5" fill="${COLOURS[i % COLOURS.length]}"/><text x="${W - m.r + 32}" y="${m.t + 20 * i + 14}">${esc(g)}</text>`));
  out.push("</svg>");
  return out.join("\n");
}
