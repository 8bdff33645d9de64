import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { runSuite, suiteJobs } from "../../src/train/suite.js";
import { unfinishedReason } from "../../src/train/trainer.js";
import { videoAccuracy, vocoAccuracy } from "../../bench/voco.js";

describe("suite jobs", () => {
  test("extra fields reach every job; each job's own settings win", () => {
    const jobs = suiteJobs("small", "base", 50, { questions: 12, questions_per_type: 3, voco_tokens: 99, steps: 7, init: "other", save_every: 25 });
    for (const j of jobs) {
      expect(j.overrides.questions, j.name).toBe(12);
      expect(j.overrides.questions_per_type, j.name).toBe(3);
      expect(j.overrides.init, j.name).toBe("base");
      expect(j.overrides.steps, j.name).toBe(50);
      expect(j.overrides.save_every, j.name).toBe(25);
    }
    expect(jobs.find((j) => j.name === "voco-8")!.overrides.voco_tokens).toBe(8);
    expect(jobs.find((j) => j.name === "upper")!.overrides.voco_tokens).toBe(1);
    expect(jobs.find((j) => j.name === "voco-pool-8")!).toMatchObject({ recipe: "voco", overrides: { voco_tokens: 8, voco_pool_init: true } });
    expect(jobs.find((j) => j.name === "voco-8")!.overrides.voco_pool_init).toBeUndefined(); // the faithful one stays faithful
    // the distilled ATP learns from the base it starts from, which sees every vision token
    expect(jobs.find((j) => j.name === "atp-25-distill")!.overrides).toMatchObject({ distill: 1, teacher: "base", atp_target: 0.25 });
  });

  test("a suite-wide type_blocks schedules the image jobs and is dropped by the video jobs", () => {
    const jobs = suiteJobs("small", "base", 50, { type_blocks: "count,all" });
    expect(jobs.find((j) => j.name === "voco-8")!.overrides.type_blocks).toBe("count,all");
    for (const name of ["video-full", "video-voco-2", "video-voco-8"])
      expect(jobs.find((j) => j.name === name)!.overrides, name).toMatchObject({ video: true, type_blocks: "" });
  });

  test("--only runs the jobs in the order given", async () => {
    const out = mkdtempSync(join(tmpdir(), "vlmc-suite-"));
    for (const name of ["pool-1", "pool-8"]) {
      mkdirSync(join(out, name));
      writeFileSync(join(out, name, "trainer_state.json"), JSON.stringify({ step: 5 }));
    }
    const lines: string[] = [];
    await runSuite({ out, preset: "small", base: "base", steps: 5, only: ["pool-8", "pool-1"], log: (l) => lines.push(l) });
    expect(lines.slice(0, 2)).toEqual(["[1/2] pool-8: done, skipped", "[2/2] pool-1: done, skipped"]);
  });

  test("an unknown --only name is refused with the list of jobs, before any training", async () => {
    await expect(runSuite({ out: "unused", preset: "small", base: "base", steps: 1, only: ["voco-3"], log: () => {} })).rejects.toThrow(/voco-3.*voco-1/);
  });

  test("benchmarks skip a model folder whose training has not finished, and say so", () => {
    const out = mkdtempSync(join(tmpdir(), "vlmc-unfinished-"));
    const state = (dir: string, step: number, steps: number) => {
      mkdirSync(join(out, dir));
      writeFileSync(join(out, dir, "trainer_state.json"), JSON.stringify({ step, config: { steps } }));
    };
    state("voco-8", 340, 800);
    state("video-voco-8", 100, 800);
    state("done", 800, 800);
    mkdirSync(join(out, "exported")); // no trainer state: a shipped model
    expect(unfinishedReason(join(out, "voco-8"))).toBe("training unfinished (step 340 of 800), skipped");
    expect(unfinishedReason(join(out, "done"))).toBe("");
    expect(unfinishedReason(join(out, "exported"))).toBe("");
    // the folders hold no model files, so reading either would throw: skipping is what lets these pass
    const lines: string[] = [];
    expect(videoAccuracy(out, 1, (l) => lines.push(l))).toEqual({});
    expect(vocoAccuracy(out, 1, (l) => lines.push(l)).acc.voco).toEqual({});
    expect(lines).toEqual(["video-voco-8: training unfinished (step 100 of 800), skipped", "voco-8: training unfinished (step 340 of 800), skipped"]);
  });
});
