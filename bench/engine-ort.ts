// onnxruntime's side of `vlmc bench engine` (filled in from ./onnx-reference.ts).
export interface OrtResult {
  matmul_gflops: Record<string, number>;
  prefill_tokens_per_s: number;
}

export async function benchOnnxruntime(_opts: { quick: boolean; log: (l: string) => void }): Promise<OrtResult | { error: string }> {
  return { error: "not wired yet" };
}
