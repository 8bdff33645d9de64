// The generator core stays browser-portable: only the file-handling modules may import Node APIs.
import { expect, test } from "vitest";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const NODE_ALLOWED = new Set(["image-io.ts", "llava-json.ts"]);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
}

test("src/data: no Node imports outside image-io and llava-json; no Math.random", () => {
  const root = join(import.meta.dirname, "../../src/data");
  for (const f of files(root).filter((p) => p.endsWith(".ts"))) {
    const src = readFileSync(f, "utf8");
    expect(/Math\.random\(/.test(src), f).toBe(false);
    const name = f.split("/").at(-1)!;
    if (NODE_ALLOWED.has(name)) continue;
    const imports = [...src.matchAll(/from "([^"]+)"/g)].map((m) => m[1]);
    expect(imports.filter((i) => i.startsWith("node:") || i === "pngjs"), f).toEqual([]);
    expect(/\b(process|Buffer)\./.test(src), f).toBe(false);
  }
});
