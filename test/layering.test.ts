// Dependencies point down only (STYLE.md): cli -> eval/train -> compress -> model/data -> nn/optim ->
// tensor -> kernels. A file may import its own layer or lower ones, never a higher one.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve, dirname } from "node:path";
import { describe, expect, it } from "vitest";

const RANK: Record<string, number> = {
  kernels: 0, tensor: 1, nn: 2, optim: 2, model: 3, data: 3, compress: 4, train: 5, eval: 5, cli: 6,
};
const SRC = resolve(import.meta.dirname, "..", "src");
const BENCH = resolve(import.meta.dirname, "..", "bench");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

function layerOf(path: string): string | null {
  const top = relative(SRC, path).split("/")[0];
  return top in RANK ? top : null;
}

describe("layering", () => {
  it("no module imports a higher layer", () => {
    const violations: string[] = [];
    for (const f of files(SRC)) {
      const from = layerOf(f);
      if (from === null) continue;
      for (const m of readFileSync(f, "utf8").matchAll(/from\s+"(\.[^"]+)"/g)) {
        const target = resolve(dirname(f), m[1]);
        if (target.startsWith(BENCH)) { // benchmarks sit beside the CLI, which runs them
          if (from !== "cli") violations.push(`${relative(SRC, f)} (${from}) imports a benchmark: ${m[1]}`);
          continue;
        }
        if (!target.startsWith(SRC)) { violations.push(`${relative(SRC, f)} imports outside src: ${m[1]}`); continue; }
        const to = layerOf(target);
        if (to !== null && RANK[to] > RANK[from]) violations.push(`${relative(SRC, f)} (${from}) imports ${m[1]} (${to})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it("the TypeScript kernel set uses no Node-only API", () => {
    for (const f of files(join(SRC, "kernels", "ts"))) {
      expect(readFileSync(f, "utf8"), f).not.toMatch(/from\s+"node:|require\(|process\./);
    }
  });
});
