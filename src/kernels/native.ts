// PLACEHOLDER written by the engine author so tests can run before the native loader exists;
// the native-kernel author replaces this whole file.
import type { Kernels } from "./kernel.js";

export function loadNativeKernels(): { kernels: Kernels; info: { simd: string; threads: number } } | { error: string } {
  return { error: "native loader not written yet" };
}
