// Recipe configuration: typed defaults, overridden by a JSON file, then by command-line values.
// Unknown fields are errors that name the field and the file (a typo must not silently train the
// default). The resolved config is printed and saved with every checkpoint.
import { existsSync, readFileSync } from "node:fs";

export type ConfigValue = string | number | boolean | null;
export type FlatConfig = Record<string, ConfigValue>;

/** Merges `over` into `base`, checking names and types against base. `where` names the source. */
export function mergeConfig<T extends FlatConfig>(base: T, over: Record<string, unknown>, where: string): T {
  const out: FlatConfig = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (!(k in base)) {
      const known = Object.keys(base).join(", ");
      throw new Error(`${where}: unknown field "${k}" (known: ${known})`);
    }
    const expected = typeof base[k];
    if (base[k] !== null && v !== null && typeof v !== expected) {
      throw new Error(`${where}: field "${k}" must be a ${expected}, got ${JSON.stringify(v)}`);
    }
    out[k] = v as ConfigValue;
  }
  return out as T;
}

export function readConfigFile(path: string): Record<string, unknown> {
  if (!existsSync(path)) throw new Error(`${path}: config file not found`);
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error(`${path}: must hold a JSON object`);
  return v as Record<string, unknown>;
}

/** Parses "key=value" CLI overrides, typing each value like the default it replaces. */
export function parseOverrides(pairs: readonly string[], base: FlatConfig): Record<string, ConfigValue> {
  const out: Record<string, ConfigValue> = {};
  for (const p of pairs) {
    const eq = p.indexOf("=");
    if (eq <= 0) throw new Error(`--set ${p}: expected key=value`);
    const k = p.slice(0, eq), raw = p.slice(eq + 1);
    if (!(k in base)) throw new Error(`--set ${p}: unknown field "${k}" (known: ${Object.keys(base).join(", ")})`);
    const t = typeof base[k];
    if (t === "number") {
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new Error(`--set ${p}: "${k}" must be a number`);
      out[k] = n;
    } else if (t === "boolean") {
      if (raw !== "true" && raw !== "false") throw new Error(`--set ${p}: "${k}" must be true or false`);
      out[k] = raw === "true";
    } else out[k] = raw;
  }
  return out;
}
