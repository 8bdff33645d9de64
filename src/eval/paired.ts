// The difference in accuracy between two methods answering the same questions, with its standard
// error. The questions are shared, so the difference is taken per question (paired): d_i = a_i - b_i,
// mean and sample standard deviation over i. Pairing removes the questions both get right or both
// get wrong from the noise, so this SE is far smaller than two independent accuracies' would be.

export interface Answered {
  question: string;
  answer: string;
  correct: boolean;
}

export interface PairedDifference {
  /** accuracy(a) - accuracy(b). */
  difference: number;
  /** Standard error of that difference: sd(d) / sqrt(n). */
  se: number;
  n: number;
  /** Questions one answers right and the other wrong (d_i != 0). */
  disagreements: number;
}

export function pairedDifference(a: readonly Answered[], b: readonly Answered[]): PairedDifference {
  if (a.length !== b.length) throw new Error(`paired difference: ${a.length} answers against ${b.length}; both must answer the same questions`);
  const n = a.length;
  if (n === 0) return { difference: 0, se: 0, n, disagreements: 0 };
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (a[i].question !== b[i].question || a[i].answer !== b[i].answer) {
      throw new Error(`paired difference: question ${i} differs ("${a[i].question}" -> ${a[i].answer} against "${b[i].question}" -> ${b[i].answer})`);
    }
    d[i] = Number(a[i].correct) - Number(b[i].correct);
  }
  const mean = d.reduce((s, x) => s + x, 0) / n;
  const variance = n > 1 ? d.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1) : 0;
  return { difference: mean, se: Math.sqrt(variance / n), n, disagreements: d.filter((x) => x !== 0).length };
}
