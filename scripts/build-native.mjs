// Builds the native kernel addon (native/ -> native/build/Release/vlmc_native.node) with node-gyp.
// Run by `npm install` (package.json "install") and `npm run build:native` (with --verbose).
//
// It never fails the install: without a compiler, Python or Node headers the package still works
// on the TypeScript kernels, so any failure prints one line saying why and exits 0.
//   --verbose           show node-gyp's full output
//   VLMC_SKIP_NATIVE=1  skip the build
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const verbose = process.argv.includes("--verbose");

function giveUp(reason) {
  console.log(`vlm-compress: native kernels not built (${reason}); the TypeScript kernels will be used`);
  process.exit(0);
}

// node-gyp as [command, ...args]: npm's own during lifecycle scripts, else one on PATH, else the
// copy bundled with the npm that sits next to this node binary.
function findNodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return [process.execPath, fromNpm];
  const probe = spawnSync(process.platform === "win32" ? "node-gyp.cmd" : "node-gyp", ["--version"], {
    stdio: "ignore",
    shell: process.platform === "win32",
  });
  if (probe.status === 0) return [process.platform === "win32" ? "node-gyp.cmd" : "node-gyp"];
  const bin = path.dirname(process.execPath);
  const candidates = [
    path.join(bin, "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
    path.join(bin, "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
  ];
  const found = candidates.find((p) => existsSync(p));
  return found ? [process.execPath, found] : null;
}

// Node's headers installed next to this node binary (e.g. /usr/include/node for /usr/bin/node):
// building against them needs no download, so it works offline.
function localNodedir() {
  if (process.env.npm_config_nodedir) return null;  // npm passes it on to node-gyp itself
  const prefix = path.resolve(path.dirname(process.execPath), "..");
  return existsSync(path.join(prefix, "include", "node", "node_api.h")) ? prefix : null;
}

// The most useful line of a failed build: a compiler error, else node-gyp's own error.
function reasonFrom(output) {
  const lines = output.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const pick =
    lines.find((l) => /\berror\b:/i.test(l) && !l.startsWith("gyp")) ??
    lines.find((l) => /^gyp ERR! stack Error:/.test(l)) ??
    lines.filter((l) => l.startsWith("gyp ERR!")).at(-1) ??
    lines.at(-1) ??
    "node-gyp failed";
  const text = pick.replace(/^gyp ERR! (stack )?/, "");
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

function main() {
  if (process.env.VLMC_SKIP_NATIVE === "1") giveUp("VLMC_SKIP_NATIVE=1");
  if (!existsSync(path.join(root, "native", "binding.gyp"))) giveUp("native/binding.gyp is missing");
  const gyp = findNodeGyp();
  if (!gyp) giveUp("node-gyp not found");

  const args = [...gyp.slice(1), "rebuild", "--directory", "native"];
  const nodedir = localNodedir();
  if (nodedir) args.push(`--nodedir=${nodedir}`);
  if (verbose) console.log(`vlm-compress: ${[gyp[0], ...args].join(" ")}`);
  const started = Date.now();
  const r = spawnSync(gyp[0], args, {
    cwd: root,
    stdio: verbose ? "inherit" : "pipe",
    encoding: "utf8",
    timeout: 15 * 60 * 1000,
    shell: process.platform === "win32" && gyp[0].endsWith(".cmd"),
    env: { ...process.env, JOBS: process.env.JOBS ?? "max" },  // compile files in parallel
  });
  if (r.error) giveUp(r.error.message);
  if (r.status !== 0) giveUp(verbose ? `node-gyp exited with code ${r.status}` : reasonFrom(`${r.stdout}\n${r.stderr}`));
  if (!existsSync(path.join(root, "native", "build", "Release", "vlmc_native.node"))) {
    giveUp("node-gyp succeeded but produced no vlmc_native.node");
  }
  console.log(`vlm-compress: native kernels built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

try {
  main();
} catch (e) {
  giveUp(e instanceof Error ? e.message : String(e));
}
