#!/usr/bin/env node
// Entry point of the `vlmc` command: loads the compiled CLI, or says how to build it.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const main = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "src", "cli", "main.js");
if (!existsSync(main)) {
  console.error("vlmc: the TypeScript sources are not compiled (dist/ is missing). Run `npm run build` (npm install does it).");
  process.exit(2);
}
await import(pathToFileURL(main).href);
