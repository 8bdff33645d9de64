import { describe, expect, test } from "vitest";
import { runSuite, suiteJobs } from "../../src/train/suite.js";

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

  test("an unknown --only name is refused with the list of jobs, before any training", async () => {
    await expect(runSuite({ out: "unused", preset: "small", base: "base", steps: 1, only: ["voco-3"], log: () => {} })).rejects.toThrow(/voco-3.*voco-1/);
  });
});
