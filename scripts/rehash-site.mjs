#!/usr/bin/env node
// Gives the production frontend's files names that are true hashes of what they hold.
//
// Why: the server sends every `name.<hash>.ext` file as `immutable` for a year
// (src/server/static_assets.rs), so a name must never stand for two contents. cargo-leptos
// 0.3.10 hashes each file and only then writes the split loader's new name into three of them
// (`wix-app.<h>.js`, `wix-app.<h>.wasm`, and its manifest). Those three keep the hash of their
// content from before the rewrite. The split loader's own name changes with every build (its
// generator writes two import lists in hash-map order), so the next deploy, even of the same
// code, serves new bytes under the old core names. A returning visitor's browser keeps its cached
// core, which imports a loader that is no longer on the server, and the page never hydrates.
//
// What it does, after `cargo leptos build --release --split` with hashed names:
//  1. writes the loader's two import lists in sorted order, so equal code builds equal bytes;
//  2. names the core JS, the core wasm and the loader by one hash of the three contents taken
//     together, with their references to each other blanked (the JS and the loader import each
//     other, so no file of the three can carry a hash of the other's final bytes);
//  3. names the manifest by the hash of its final content;
//  4. rewrites `hash.txt` (which Leptos reads to name the files in the pages), then checks that
//     every other hashed file's name is the hash of its bytes, and fails the build if not.
// Running it again on its own output changes nothing. Hand-rolled: no maintained tool rehashes
// cargo-leptos output; the format it reads is cargo-leptos's and Leptos's (`hash.txt`).
//
// Usage: node scripts/rehash-site.mjs [SITE_DIR]   (default target/site)
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const site = process.argv[2] ?? "target/site";
const pkg = join(site, "pkg");
const hashFile = join(site, "hash.txt");

/** cargo-leptos's name hash in a file name: `name.<22 characters of base64url>.ext`. */
const HASH = "[A-Za-z0-9_-]{22}";

function fail(message) {
  console.error(`rehash-site: ${message}`);
  process.exit(1);
}

/** cargo-leptos's name hash: MD5, base64url without padding (22 characters). */
const hashOf = (...parts) => {
  const md5 = createHash("md5");
  for (const part of parts) md5.update(part);
  return md5.digest("base64url");
};

/** Every occurrence of `from` in `bytes` replaced by `to`, which must be as long (wasm strings
 * are length-prefixed, so a rewrite must not move a byte). */
function replaceAll(bytes, from, to) {
  const a = Buffer.from(from);
  const b = Buffer.from(to);
  if (a.length !== b.length) fail(`cannot replace ${from} by ${to}: lengths differ`);
  const out = Buffer.from(bytes);
  for (let i = out.indexOf(a); i !== -1; i = out.indexOf(a, i + a.length)) b.copy(out, i);
  return out;
}

/** The loader's `const { b, a,  } = initSync(…)` and `Object.assign(…, { b, a,  })` with the
 * names sorted (the order of those names means nothing to JavaScript or to wasm imports). */
function sortLoaderImports(text) {
  return text
    .split("\n")
    .map((line) =>
      /= initSync\(|Object\.assign\(sharedImports\.__wasm_split,/.test(line)
        ? line.replace(/\{ ((?:[\w$]+, *)+)\}/, (_, names) => {
            const sorted = names.split(",").map((n) => n.trim()).filter(Boolean).sort();
            return `{ ${sorted.map((n) => `${n}, `).join("")} }`;
          })
        : line,
    )
    .join("\n");
}

function readHashes() {
  if (!existsSync(hashFile)) fail(`${hashFile} not found; build with LEPTOS_HASH_FILES=true first`);
  const entries = new Map();
  for (const line of readFileSync(hashFile, "utf8").split("\n")) {
    const at = line.indexOf(":");
    if (at > 0) entries.set(line.slice(0, at).trim(), line.slice(at + 1).trim());
  }
  return entries;
}

function onlyFile(suffix) {
  const found = readdirSync(pkg).filter((f) => f.endsWith(suffix) && !f.startsWith("__wasm_split"));
  if (found.length !== 1) fail(`expected one file ending in ${suffix} in ${pkg}, found ${found.length}`);
  return found[0];
}

const hashes = readHashes();
for (const key of ["js", "wasm", "split", "manifest"]) {
  if (!hashes.get(key)) fail(`${hashFile} has no "${key}" line; build with --split`);
}
const core = {
  js: onlyFile(`.${hashes.get("js")}.js`),
  wasm: onlyFile(`.${hashes.get("wasm")}.wasm`),
  split: `__wasm_split.${hashes.get("split")}.js`,
};
const manifest = `__wasm_split_manifest.${hashes.get("manifest")}.json`;
for (const name of [core.split, manifest]) {
  if (!existsSync(join(pkg, name))) fail(`${join(pkg, name)} not found`);
}

// 1 and 2: the three core files, hashed together with their names for each other blanked.
const withHash = (name, hash) => name.replace(new RegExp(`\\.${HASH}\\.(js|wasm)$`), `.${hash}.$1`);
const placeholder = (name) => withHash(name, "_".repeat(22));
const contents = Object.fromEntries(
  Object.entries(core).map(([role, name]) => {
    let bytes = readFileSync(join(pkg, name));
    if (role === "split") bytes = Buffer.from(sortLoaderImports(bytes.toString("utf8")));
    for (const other of Object.values(core)) bytes = replaceAll(bytes, other, placeholder(other));
    return [role, bytes];
  }),
);
const coreHash = hashOf(
  ...Object.entries(contents).flatMap(([role, bytes]) => [`${role}:${bytes.length}:`, bytes]),
);
const renamed = Object.fromEntries(
  Object.entries(core).map(([role, name]) => [role, withHash(name, coreHash)]),
);
// Written under the new names first; the old files go only once hash.txt names the new ones, so
// an interrupted run leaves either the old site intact or a site the checks below refuse.
for (const [role, bytes] of Object.entries(contents)) {
  let out = bytes;
  for (const [other, name] of Object.entries(core)) out = replaceAll(out, placeholder(name), renamed[other]);
  writeFileSync(join(pkg, renamed[role]), out);
}

// 3: the manifest lists chunks by their (true) hashed names; its own name comes last.
const manifestHash = hashOf(readFileSync(join(pkg, manifest)));
const newManifest = `__wasm_split_manifest.${manifestHash}.json`;
if (manifest !== newManifest) renameSync(join(pkg, manifest), join(pkg, newManifest));

// 4: hash.txt, then every hashed file checked against its bytes, and every hashed name the core
// files hold against the files there are.
hashes.set("js", coreHash).set("wasm", coreHash).set("split", coreHash).set("manifest", manifestHash);
writeFileSync(hashFile, [...hashes].map(([k, v]) => `${k}: ${v}\n`).join(""));
for (const [role, name] of Object.entries(core)) {
  if (name !== renamed[role]) unlinkSync(join(pkg, name));
}

const coreNames = new Set(Object.values(renamed));
for (const name of readdirSync(pkg)) {
  const hashed = new RegExp(`\\.(${HASH})\\.[a-z]+$`).exec(name);
  if (!hashed || coreNames.has(name) || /\.(br|gz)$/.test(name)) continue;
  const bytes = readFileSync(join(pkg, name));
  if (hashOf(bytes) !== hashed[1]) fail(`${name} is not named by the hash of its content`);
  for (const old of [...Object.values(core), manifest]) {
    if (!coreNames.has(old) && old !== newManifest && bytes.includes(old)) {
      fail(`${name} still names ${old}, which this script renamed`);
    }
  }
}
for (const name of coreNames) {
  const text = readFileSync(join(pkg, name)).toString("latin1");
  for (const [named] of text.matchAll(new RegExp(`[\\w-]+\\.${HASH}\\.(?:js|wasm)(?![\\w-])`, "g"))) {
    if (!existsSync(join(pkg, named))) fail(`${name} names ${named}, which is not in ${pkg}`);
  }
}
console.log(`rehash-site: core (js, wasm, split loader) ${coreHash}, manifest ${manifestHash}`);
