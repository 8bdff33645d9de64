// Module: a container of named parameters and sub-modules, walked by field name so that parameter
// names equal checkpoint tensor names (`layers.0.self_attn.q_proj.weight`) and loading is a loop.
// A field holding a tensor made by parameter() is a parameter (trainable or frozen); a field holding
// a Module or an array of Modules is a child. Other tensors (caches, tables) are not saved.
import { OpError } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";

const PARAM = Symbol("parameter");
type Marked = Tensor & { [PARAM]?: true };

/** Marks a tensor as a parameter (trainable until frozen). */
export function parameter(t: Tensor): Tensor {
  t.requiresGrad = true;
  (t as Marked)[PARAM] = true;
  return t;
}

export function isParameter(t: Tensor): boolean {
  return (t as Marked)[PARAM] === true;
}

export abstract class Module {
  /** [name, tensor] for every parameter, trainable or frozen, depth first in field order. */
  namedParameters(prefix = ""): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [key, value] of Object.entries(this)) {
      const name = prefix + key;
      if (value instanceof Tensor) {
        if (isParameter(value)) out.push([name, value]);
      } else if (value instanceof Module) {
        out.push(...value.namedParameters(name + "."));
      } else if (Array.isArray(value) && value.length > 0 && value.every((v) => v instanceof Module)) {
        value.forEach((m: Module, i) => out.push(...m.namedParameters(`${name}.${i}.`)));
      }
    }
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Parameters that currently receive gradients. */
  trainableParameters(): [string, Tensor][] {
    return this.namedParameters().filter(([, t]) => t.requiresGrad);
  }

  numParameters(): number {
    return this.parameters().reduce((s, t) => s + t.size, 0);
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Freezes (false) or unfreezes (true) every parameter of this module. */
  setTrainable(flag: boolean): void {
    for (const p of this.parameters()) { p.requiresGrad = flag; if (!flag) p.grad = null; }
  }

  stateDict(): Map<string, Tensor> {
    return new Map(this.namedParameters());
  }

  /**
   * Copies tensors into the parameters by name. Shape mismatches are always errors listing every
   * offending name; missing or unexpected names are errors when strict, else returned.
   */
  loadStateDict(state: ReadonlyMap<string, Tensor>, strict = true): { missing: string[]; unexpected: string[] } {
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !state.has(k));
    const unexpected = [...state.keys()].filter((k) => !own.has(k));
    const mismatched: string[] = [];
    for (const [name, p] of own) {
      const t = state.get(name);
      if (t !== undefined && t.shape.join() !== p.shape.join()) {
        mismatched.push(`${name}: checkpoint (${t.shape.join(", ")}) vs model (${p.shape.join(", ")})`);
      }
    }
    if (mismatched.length > 0) throw new OpError("loadStateDict", `shape mismatch:\n  ${mismatched.join("\n  ")}`);
    if (strict && (missing.length > 0 || unexpected.length > 0)) {
      throw new OpError("loadStateDict", `missing: [${missing.join(", ")}]; unexpected: [${unexpected.join(", ")}]`);
    }
    for (const [name, p] of own) {
      const t = state.get(name);
      if (t !== undefined) p.data.set(t.data);
    }
    return { missing, unexpected };
  }
}
