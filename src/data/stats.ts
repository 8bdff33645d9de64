// Dataset statistics: per question type, how often each answer occurs, and scene-level counts.
//
// Used by `vlmc data stats` and by the balance tests. Works on any iterable of examples (pixels are
// not needed, so stats run on examples made with render: false).
// Not here: generation (stream.ts), accuracy of a model (src/eval).

import type { Scene } from "./shapes/scene.js";
import type { VideoScene } from "./shapes/video.js";
import type { Example } from "./stream.js";

export interface AnswerStats {
  questions: number;
  /** Answer -> count, by count (descending) then answer; digit answers come first in numeric order. */
  answers: Record<string, number>;
  /** The most common answer and its share of this type's questions. */
  top: string;
  maxShare: number;
}

export interface DatasetStats {
  examples: number;
  images: number;
  videos: number;
  questions: number;
  /** Question type -> answer distribution. */
  types: Record<string, AnswerStats>;
  /** Template key ("type/subtype") -> answer distribution (the majority baseline of a model that reads the template). */
  templates: Record<string, AnswerStats>;
  /** Objects per image or clip -> number of examples. */
  objects: Record<string, number>;
  /** Frames per clip -> number of clips. */
  frames: Record<string, number>;
}

export function collectStats(examples: Iterable<Example>): DatasetStats {
  const byType = new Map<string, Map<string, number>>();
  const byTemplate = new Map<string, Map<string, number>>();
  const objects = new Map<string, number>();
  const frames = new Map<string, number>();
  let n = 0, images = 0, videos = 0, questions = 0;
  for (const ex of examples) {
    n++;
    if (ex.kind === "image") images++;
    else {
      videos++;
      bump(frames, String((ex.scene as VideoScene).frames));
    }
    bump(objects, String((ex.scene as Scene | VideoScene).objects.length));
    for (const qa of ex.qa) {
      questions++;
      if (!byType.has(qa.type)) byType.set(qa.type, new Map());
      bump(byType.get(qa.type)!, qa.answer);
      if (!byTemplate.has(qa.template)) byTemplate.set(qa.template, new Map());
      bump(byTemplate.get(qa.template)!, qa.answer);
    }
  }
  const types: Record<string, AnswerStats> = {};
  for (const t of [...byType.keys()].sort()) types[t] = answerStats(byType.get(t)!);
  const templates: Record<string, AnswerStats> = {};
  for (const t of [...byTemplate.keys()].sort()) templates[t] = answerStats(byTemplate.get(t)!);
  return {
    examples: n,
    images,
    videos,
    questions,
    types,
    templates,
    objects: numericRecord(objects),
    frames: numericRecord(frames),
  };
}

function answerStats(counts: Map<string, number>): AnswerStats {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const [top, topCount] = sortedEntries(counts)[0] ?? ["", 0];
  return { questions: total, answers: sortedRecord(counts), top, maxShare: total > 0 ? topCount / total : 0 };
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

function sortedEntries(m: Map<string, number>): [string, number][] {
  return [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

/** NOTE: JS objects list integer-like keys ("0", "3") first in numeric order, whatever the insertion order. */
function sortedRecord(m: Map<string, number>): Record<string, number> {
  return Object.fromEntries(sortedEntries(m));
}

function numericRecord(m: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...m.entries()].sort((a, b) => Number(a[0]) - Number(b[0])));
}
