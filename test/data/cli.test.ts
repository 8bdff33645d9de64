// `vlmc data ...` end to end through commander (no subprocess): show, stats --json, write + check.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { Command } from "commander";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { registerDataCommands } from "../../src/cli/data.js";
import { UsageError } from "../../src/cli/errors.js";
import { readImage } from "../../src/data/image-io.js";

let dir: string;
let logs: string[];
let errs: string[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "vlmc-data-cli-"));
  logs = [];
  errs = [];
  vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void logs.push(a.join(" ")));
  vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void errs.push(a.join(" ")));
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

async function run(...args: string[]): Promise<void> {
  const program = new Command().name("vlmc").exitOverride();
  registerDataCommands(program);
  await program.parseAsync(["node", "vlmc", ...args]);
}

describe("vlmc data", () => {
  test("show writes a contact sheet PNG (images and video)", async () => {
    const out = join(dir, "s.png");
    await run("data", "show", "--n", "4", "--out", out);
    const img = readImage(out);
    expect(img.width).toBeGreaterThan(2 * 192);
    await run("data", "show", "--n", "2", "--video", "--size", "64", "--out", join(dir, "v.png"));
    expect(readImage(join(dir, "v.png")).width).toBeGreaterThanOrEqual(8 * 64);
  });

  test("stats --json: per split, count of each question type and each answer", async () => {
    await run("data", "stats", "--json", "--n", "60");
    const s = JSON.parse(logs.join("\n"));
    expect(Object.keys(s)).toEqual(["train", "val", "test", "heldout"]);
    for (const split of Object.keys(s)) {
      for (const kind of ["image", "video"]) {
        const st = s[split][kind];
        expect(st.examples).toBe(60);
        let total = 0;
        for (const t of Object.values(st.types) as { questions: number; answers: Record<string, number> }[]) {
          const sum = Object.values(t.answers).reduce((a, b) => a + b, 0);
          expect(sum).toBe(t.questions);
          total += t.questions;
        }
        expect(total).toBe(st.questions);
      }
    }
  });

  test("write then check round-trips; check --strict rejects a broken file", async () => {
    await run("data", "write", "--out", dir, "--n", "5", "--split", "val", "--size", "32");
    expect(existsSync(join(dir, "tokenizer.json"))).toBe(true);
    await run("data", "check", join(dir, "val.json"), "--strict");
    expect(logs.at(-1)).toContain("5 records, 5 valid, 0 malformed");
    const recs = JSON.parse(readFileSync(join(dir, "val.json"), "utf8"));
    recs[2].conversations[1].from = "human";
    delete recs[4].id;
    writeFileSync(join(dir, "bad.json"), JSON.stringify(recs));
    await run("data", "check", join(dir, "bad.json"));
    expect(logs.at(-1)).toContain("5 records, 3 valid, 2 malformed");
    expect(errs.join("\n")).toMatch(/record 2 \(id val-i0000002\): conversations\[1\]\.from/);
    expect(errs.join("\n")).toMatch(/record 4: id: missing/);
    await expect(run("data", "check", join(dir, "bad.json"), "--strict")).rejects.toThrow(UsageError);
  });

  test("bad flags and missing files are usage errors", async () => {
    await expect(run("data", "show", "--split", "nope", "--out", join(dir, "x.png"))).rejects.toThrow(/--split must be one of/);
    await expect(run("data", "stats", "--difficulty", "extreme")).rejects.toThrow(UsageError);
    await expect(run("data", "check", join(dir, "missing.json"))).rejects.toThrow(/missing\.json: cannot read/);
    await expect(run("data", "show", "--n", "1", "--out", join(dir, "no", "such", "dir.png"))).rejects.toThrow(UsageError);
  });
});
