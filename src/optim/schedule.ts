// Learning-rate schedule: linear warmup, then cosine decay to a floor (nanoGPT's get_lr).

export interface CosineSchedule {
  maxLr: number;
  minLr: number;
  warmupSteps: number;
  totalSteps: number;
}

export function lrAt(step: number, s: CosineSchedule): number {
  // 1) linear warmup from maxLr/warmup to maxLr
  if (step < s.warmupSteps) return (s.maxLr * (step + 1)) / s.warmupSteps;
  // 2) past the end: the floor
  if (step >= s.totalSteps) return s.minLr;
  // 3) in between: cosine from maxLr down to minLr
  const ratio = (step - s.warmupSteps) / Math.max(1, s.totalSteps - s.warmupSteps);
  return s.minLr + 0.5 * (1 + Math.cos(Math.PI * ratio)) * (s.maxLr - s.minLr);
}
