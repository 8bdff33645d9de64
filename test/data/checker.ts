// Independent answer checker for ShapesQA / ShapesVideoQA.
//
// Reads the question TEXT (not the generator's template key or parameters), parses it with its own
// patterns and computes the answer from the plain scene description (objects with attributes and
// geometry). It shares no code with src/data: its own region rule, its own notion of "largest"
// (the actual radius, not the size label), its own motion direction, and looser margins (about half
// the generator's) so that a question the generator thinks is clear must also be clear here.
// Throws on a question it cannot parse or finds ambiguous.

export interface CObj {
  shape: string;
  colour: string;
  size: string;
  x: number;
  y: number;
  r: number;
}
export interface CScene {
  objects: CObj[];
}
export interface CVideoObj {
  shape: string;
  colour: string;
  size: string;
  r: number;
  x0: number;
  y0: number;
  vx: number;
  vy: number;
  start: number;
  end: number;
}
export interface CVideo {
  frames: number;
  objects: CVideoObj[];
}

const PLURAL: Record<string, string> = {
  circles: "circle",
  squares: "square",
  triangles: "triangle",
  crosses: "cross",
  stars: "star",
  rings: "ring",
  diamonds: "diamond",
  hearts: "heart",
};
const REGION_NAMES = ["top left", "top middle", "top right", "middle left", "center", "middle right", "bottom left", "bottom middle", "bottom right"];
const M_REGION = 0.015, M_AXIS = 0.05, RATIO = 1.5, NEAR_RATIO = 1.15, SIZE_RATIO = 1.3, MOVE = 0.05;

function fail(msg: string): never {
  throw new Error(msg);
}

/** Signed distance from (x, y) into region box (positive inside). */
function insideBy(region: string, x: number, y: number): number {
  const k = REGION_NAMES.indexOf(region);
  if (k < 0) fail(`unknown region ${region}`);
  const x0 = (k % 3) / 3, y0 = Math.floor(k / 3) / 3, x1 = x0 + 1 / 3, y1 = y0 + 1 / 3;
  return Math.min(x - x0, x1 - x, y - y0, y1 - y);
}

function inRegion(objs: CObj[], region: string): CObj {
  const inside = objs.filter((o) => insideBy(region, o.x, o.y) > 0);
  if (inside.length !== 1) fail(`${inside.length} objects in ${region}`);
  if (insideBy(region, inside[0].x, inside[0].y) < M_REGION) fail(`object too close to the ${region} border`);
  for (const o of objs) if (o !== inside[0] && insideBy(region, o.x, o.y) > -M_REGION) fail(`another object near ${region}`);
  return inside[0];
}

function the<T extends { colour: string; shape: string }>(objs: T[], colour: string, shape: string): T {
  const m = objs.filter((o) => o.colour === colour && o.shape === shape);
  if (m.length !== 1) fail(`"the ${colour} ${shape}" matches ${m.length} objects`);
  return m[0];
}

function nearestTo(objs: CObj[], t: CObj): CObj {
  const others = objs.filter((o) => o !== t);
  const d = (o: CObj) => Math.hypot(o.x - t.x, o.y - t.y);
  const sorted = others.slice().sort((a, b) => d(a) - d(b));
  if (sorted.length === 0) fail("no other object");
  if (sorted.length > 1 && d(sorted[1]) < NEAR_RATIO * d(sorted[0])) fail("nearest is ambiguous");
  const edge = others.slice().sort((a, b) => d(a) - a.r - (d(b) - b.r));
  if (edge[0] !== sorted[0]) fail("nearest by edge differs from nearest by centre");
  return sorted[0];
}

/** The object with the clearly largest (sign 1) or smallest (-1) radius. */
function extremeByRadius(objs: CObj[], sign: 1 | -1): CObj {
  if (objs.length < 2) fail("extreme of fewer than two objects");
  const s = objs.slice().sort((a, b) => sign * (b.r - a.r));
  const ratio = sign === 1 ? s[0].r / s[1].r : s[1].r / s[0].r;
  if (ratio < SIZE_RATIO) fail("extreme size is ambiguous");
  return s[0];
}

function attr(o: { colour: string; shape: string; size: string }, what: string): string {
  if (what === "colour") return o.colour;
  if (what === "shape") return o.shape;
  if (what === "size") return o.size;
  return fail(`unknown attribute ${what}`);
}

function yesNo(b: boolean): string {
  return b ? "yes" : "no";
}

function clearSign(d: number): number {
  if (Math.abs(d) < M_AXIS) fail(`offset ${d.toFixed(3)} too small`);
  return Math.sign(d);
}

/** Answer an image question from the scene, or throw. */
export function checkImage(scene: CScene, q: string): string {
  const objs = scene.objects;
  const W = "([a-z]+)";
  let m: RegExpMatchArray | null;
  if ((m = q.match(/^what (colour|shape|size) is the object in the ([a-z ]+)\?$/))) return attr(inRegion(objs, m[2]), m[1]);
  if ((m = q.match(new RegExp(`^are there any ${W} objects\\?$`)))) return yesNo(objs.some((o) => o.colour === m![1]));
  if ((m = q.match(new RegExp(`^are there any ${W}\\?$`)))) return yesNo(objs.some((o) => o.shape === PLURAL[m![1]]));
  if ((m = q.match(new RegExp(`^are there any ${W} ${W}\\?$`))))
    return yesNo(objs.some((o) => o.colour === m![1] && o.shape === PLURAL[m![2]]));
  if (q === "how many objects are there?") return String(objs.length);
  if ((m = q.match(new RegExp(`^how many ${W} objects are there\\?$`)))) return String(objs.filter((o) => o.colour === m![1]).length);
  if ((m = q.match(new RegExp(`^how many ${W} are there\\?$`)))) {
    const shape = PLURAL[m[1]] ?? fail(`unknown plural ${m[1]}`);
    return String(objs.filter((o) => o.shape === shape).length);
  }
  if ((m = q.match(new RegExp(`^is the ${W} ${W} to the left of the ${W} ${W}\\?$`))))
    return yesNo(clearSign(the(objs, m[1], m[2]).x - the(objs, m[3], m[4]).x) < 0);
  if ((m = q.match(new RegExp(`^is the ${W} ${W} above the ${W} ${W}\\?$`))))
    return yesNo(clearSign(the(objs, m[1], m[2]).y - the(objs, m[3], m[4]).y) < 0);
  if ((m = q.match(new RegExp(`^where is the ${W} ${W} relative to the ${W} ${W}\\?$`)))) {
    const a = the(objs, m[1], m[2]), b = the(objs, m[3], m[4]);
    const dx = a.x - b.x, dy = a.y - b.y;
    if (Math.abs(dx) >= RATIO * Math.abs(dy) && Math.abs(dx) >= M_AXIS) return dx < 0 ? "left" : "right";
    if (Math.abs(dy) >= RATIO * Math.abs(dx) && Math.abs(dy) >= M_AXIS) return dy < 0 ? "above" : "below";
    return fail("relative position is ambiguous");
  }
  if ((m = q.match(/^what (colour|shape) is the object nearest to the (largest|smallest) object\?$/)))
    return attr(nearestTo(objs, extremeByRadius(objs, m[2] === "largest" ? 1 : -1)), m[1]);
  if ((m = q.match(new RegExp(`^what (colour|shape) is the object nearest to the ${W} ${W}\\?$`))))
    return attr(nearestTo(objs, the(objs, m[2], m[3])), m[1]);
  if ((m = q.match(/^what (colour|shape) is the (largest|smallest) object\?$/)))
    return attr(extremeByRadius(objs, m[2] === "largest" ? 1 : -1), m[1]);
  if ((m = q.match(new RegExp(`^is the ${W} ${W} larger than the ${W} ${W}\\?$`)))) {
    const a = the(objs, m[1], m[2]), b = the(objs, m[3], m[4]);
    if (Math.max(a.r, b.r) / Math.min(a.r, b.r) < SIZE_RATIO) fail("sizes too close");
    return yesNo(a.r > b.r);
  }
  if ((m = q.match(new RegExp(`^what colour is the largest ${W}\\?$`))))
    return extremeByRadius(objs.filter((o) => o.shape === m![1]), 1).colour;
  if ((m = q.match(new RegExp(`^what shape is the leftmost ${W} object\\?$`)))) {
    const s = objs.filter((o) => o.colour === m![1]).sort((a, b) => a.x - b.x);
    if (s.length < 2 || s[1].x - s[0].x < M_AXIS) fail("leftmost is ambiguous");
    return s[0].shape;
  }
  return fail(`unparsed image question: ${q}`);
}

function at(o: CVideoObj, f: number): CObj {
  return { shape: o.shape, colour: o.colour, size: o.size, r: o.r, x: o.x0 + o.vx * f, y: o.y0 + o.vy * f };
}

function visibleAt(v: CVideo, f: number): CObj[] {
  return v.objects.filter((o) => o.start <= f && f < o.end).map((o) => at(o, f));
}

/** Direction of the net displacement between the first and last visible frames, or null if still. */
function moved(o: CVideoObj): string | null {
  const a = at(o, o.start), b = at(o, o.end - 1);
  const dx = b.x - a.x, dy = b.y - a.y, d = Math.hypot(dx, dy);
  if (d === 0) return null;
  if (d < MOVE) fail("displacement too small to call");
  if (Math.abs(dx) >= RATIO * Math.abs(dy)) return dx < 0 ? "left" : "right";
  if (Math.abs(dy) >= RATIO * Math.abs(dx)) return dy < 0 ? "up" : "down";
  return fail("diagonal motion");
}

function unique<T>(items: T[], what: string): T {
  if (items.length !== 1) fail(`${what}: ${items.length} candidates`);
  return items[0];
}

/** Answer a video question from the clip, or throw. */
export function checkVideo(v: CVideo, q: string): string {
  const objs = v.objects;
  const W = "([a-z]+)";
  let m: RegExpMatchArray | null;
  if (q === "which colour appeared first?") {
    const s = Math.min(...objs.map((o) => o.start));
    return unique(objs.filter((o) => o.start === s), "first").colour;
  }
  if (q === "which shape appeared last?") {
    const s = Math.max(...objs.map((o) => o.start));
    return unique(objs.filter((o) => o.start === s), "last").shape;
  }
  if (q === "which colour disappeared first?") {
    const gone = objs.filter((o) => o.end < v.frames);
    const e = Math.min(...gone.map((o) => o.end));
    return unique(gone.filter((o) => o.end === e), "disappeared first").colour;
  }
  if ((m = q.match(new RegExp(`^did the ${W} ${W} appear before the ${W} ${W}\\?$`)))) {
    const a = the(objs, m[1], m[2]), b = the(objs, m[3], m[4]);
    if (a.start === b.start) fail("appeared together");
    return yesNo(a.start < b.start);
  }
  if ((m = q.match(new RegExp(`^where did the ${W} ${W} move\\?$`)))) return moved(the(objs, m[1], m[2])) ?? fail("did not move");
  if ((m = q.match(/^what colour is the object that moved (left|right|up|down)\?$/)))
    return unique(objs.filter((o) => moved(o) === m![1]), `moved ${m[1]}`).colour;
  if (q === "how many objects appear in the video?") return String(objs.length);
  if (q === "how many objects disappeared?") return String(objs.filter((o) => o.end < v.frames).length);
  if (q === "how many objects moved?") return String(objs.filter((o) => moved(o) !== null).length);
  if ((m = q.match(/^what colour is the object in the ([a-z ]+) in frame (\d+)\?$/))) {
    const f = Number(m[2]) - 1;
    if (f < 0 || f >= v.frames) fail(`frame ${m[2]} outside the clip`);
    return inRegion(visibleAt(v, f), m[1]).colour;
  }
  if ((m = q.match(new RegExp(`^is the ${W} ${W} visible in frame (\\d+)\\?$`)))) {
    const o = the(objs, m[1], m[2]), f = Number(m[3]) - 1;
    if (f < 0 || f >= v.frames) fail(`frame ${m[3]} outside the clip`);
    return yesNo(o.start <= f && f < o.end);
  }
  if ((m = q.match(/^how many objects are visible in frame (\d+)\?$/))) {
    const f = Number(m[1]) - 1;
    if (f < 0 || f >= v.frames) fail(`frame ${m[1]} outside the clip`);
    return String(visibleAt(v, f).length);
  }
  return fail(`unparsed video question: ${q}`);
}
