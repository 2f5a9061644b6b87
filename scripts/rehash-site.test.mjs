// scripts/rehash-site.mjs on sites shaped like cargo-leptos 0.3.10's `--release --split` output
// with hashed names: a core JS and a split loader that import each other, a core wasm that names
// the loader, a manifest, chunks, and `hash.txt`, with the core names hashed before the loader's
// name was written into them (as cargo-leptos does). Run: node --test scripts/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./rehash-site.mjs', import.meta.url));
const md5 = (bytes) => createHash('md5').update(bytes).digest('base64url');

/** A site as cargo-leptos leaves it. `order` varies what a rebuild of equal code varies: the
 * loader's import order (and so its name); `wasmByte` stands for a change in the core, `chunkByte`
 * for one in a lazy route only. */
function cargoLeptosSite({ order = ['memory', '__indirect_function_table'], wasmByte = 1, chunkByte = 7 } = {}) {
  const site = mkdtempSync(join(tmpdir(), 'rehash-site-'));
  const pkg = join(site, 'pkg');
  mkdirSync(pkg);
  const chunk = Buffer.from([0, 0x61, 0x73, 0x6d, chunkByte]);
  const chunkName = `chunk_4.${md5(chunk)}`;
  writeFileSync(join(pkg, `${chunkName}.wasm`), chunk);
  const css = 'body{margin:0}';
  writeFileSync(join(pkg, `wix-app.${md5(css)}.css`), css);

  // cargo-leptos hashes the files while they still name the loader by its placeholder...
  const placeholder = '__wasm_split.______________________.js';
  const js = (split) => `import*as t from"./${split}";const x={"./${split}":t};export function initSync(){}\n`;
  const wasm = (split) => Buffer.concat([Buffer.from([0, 0x61, 0x73, 0x6d, wasmByte, 0xff, 0xc3, 40]), Buffer.from(`./${split}`)]);
  const jsHash = md5(js(placeholder));
  const wasmHash = md5(wasm(placeholder));
  const manifestBefore = JSON.stringify({ __dashboard_route_view_1: ['chunk_4'] }, null, 2);
  const manifestHash = md5(manifestBefore);
  // ...then writes the loader, hashes it, and writes its new name into the others.
  const loader =
    `import { initSync } from "./wix-app.${jsHash}.js";\n` +
    `        const { ${order.map((n) => `${n}, `).join('')} } = initSync(undefined, undefined);\n` +
    `        Object.assign(sharedImports.__wasm_split, { ${order.map((n) => `${n}, `).join('')} });\n` +
    `const chunks = ["./${chunkName}.wasm"];\n`;
  const split = `__wasm_split.${md5(loader)}.js`;
  writeFileSync(join(pkg, split), loader);
  writeFileSync(join(pkg, `wix-app.${jsHash}.js`), js(split));
  writeFileSync(join(pkg, `wix-app.${wasmHash}.wasm`), wasm(split));
  writeFileSync(join(pkg, `__wasm_split_manifest.${manifestHash}.json`), JSON.stringify({ __dashboard_route_view_1: [chunkName] }));
  writeFileSync(
    join(site, 'hash.txt'),
    `js: ${jsHash}\nwasm: ${wasmHash}\ncss: ${md5(css)}\nmanifest: ${manifestHash}\nsplit: ${md5(loader)}\n`,
  );
  return site;
}

function rehash(site) {
  const run = spawnSync(process.execPath, [script, site], { encoding: 'utf8' });
  return { status: run.status, stderr: run.stderr };
}

/** name -> bytes of every file, plus hash.txt. */
function snapshot(site) {
  const files = Object.fromEntries(readdirSync(join(site, 'pkg')).map((f) => [f, readFileSync(join(site, 'pkg', f))]));
  return { files, hashes: readFileSync(join(site, 'hash.txt'), 'utf8') };
}

const hashLines = (text) => Object.fromEntries(text.trim().split('\n').map((l) => l.split(': ')));
const readHashLines = (site) => hashLines(readFileSync(join(site, 'hash.txt'), 'utf8'));

test('cargo-leptos leaves the core named by bytes it no longer holds (why the script exists)', () => {
  const site = cargoLeptosSite();
  const { js, wasm } = readHashLines(site);
  assert.notEqual(md5(readFileSync(join(site, 'pkg', `wix-app.${js}.js`))), js);
  assert.notEqual(md5(readFileSync(join(site, 'pkg', `wix-app.${wasm}.wasm`))), wasm);
  rmSync(site, { recursive: true });
});

test('after it, the core shares one hash, the files name each other by it, and hash.txt says so', () => {
  const site = cargoLeptosSite();
  assert.deepEqual(rehash(site), { status: 0, stderr: '' });
  const { files, hashes } = snapshot(site);
  const h = hashLines(hashes);
  assert.equal(h.js, h.wasm);
  assert.equal(h.js, h.split);
  assert.ok(files[`wix-app.${h.js}.js`].toString().includes(`./__wasm_split.${h.split}.js`));
  assert.ok(files[`__wasm_split.${h.split}.js`].toString().includes(`./wix-app.${h.js}.js`));
  assert.ok(files[`wix-app.${h.wasm}.wasm`].includes(`./__wasm_split.${h.split}.js`));
  assert.equal(md5(files[`__wasm_split_manifest.${h.manifest}.json`]), h.manifest);
  assert.equal(Object.keys(files).length, 6, 'renamed, not copied');
  for (const [name, bytes] of Object.entries(files)) {
    if (name.startsWith('chunk_') || name.endsWith('.css')) assert.equal(md5(bytes), name.split('.')[1]);
  }
  rmSync(site, { recursive: true });
});

test('two builds of the same code get the same names and bytes, whatever order the loader was written in', () => {
  const a = cargoLeptosSite({ order: ['memory', '__indirect_function_table', '__wasm_split_shared0'] });
  const b = cargoLeptosSite({ order: ['__wasm_split_shared0', 'memory', '__indirect_function_table'] });
  assert.notEqual(snapshot(a).hashes, snapshot(b).hashes, 'cargo-leptos named them differently');
  rehash(a);
  rehash(b);
  assert.deepEqual(snapshot(a), snapshot(b));
  rmSync(a, { recursive: true });
  rmSync(b, { recursive: true });
});

/** hash.txt of two sites built with different options, after the script ran on each. */
function rehashedPair(optionsBefore, optionsAfter) {
  const sites = [cargoLeptosSite(optionsBefore), cargoLeptosSite(optionsAfter)];
  sites.forEach(rehash);
  const lines = sites.map(readHashLines);
  for (const site of sites) rmSync(site, { recursive: true });
  return lines;
}

test('a code change renames all three core files, so no cached core survives a deploy it does not match', () => {
  const [h1, h2] = rehashedPair({ wasmByte: 1 }, { wasmByte: 2 });
  for (const key of ['js', 'wasm', 'split']) assert.notEqual(h1[key], h2[key], key);
  assert.equal(h1.manifest, h2.manifest, 'the manifest did not change');
});

test('a change in a lazy route alone renames the loader, and the core with it', () => {
  const [h1, h2] = rehashedPair({ chunkByte: 7 }, { chunkByte: 8 });
  for (const key of ['js', 'wasm', 'split', 'manifest']) assert.notEqual(h1[key], h2[key], key);
});

test('the wasm is rewritten byte for byte: only the loader name changes in it', () => {
  const site = cargoLeptosSite();
  const { wasm, split } = readHashLines(site);
  const raw = readFileSync(join(site, 'pkg', `wix-app.${wasm}.wasm`));
  rehash(site);
  const h = readHashLines(site);
  const rewritten = readFileSync(join(site, 'pkg', `wix-app.${h.wasm}.wasm`));
  assert.deepEqual(rewritten, Buffer.from(raw.toString('latin1').replace(split, h.split), 'latin1'));
  rmSync(site, { recursive: true });
});

test('running it again changes nothing', () => {
  const site = cargoLeptosSite();
  rehash(site);
  const once = snapshot(site);
  assert.equal(rehash(site).status, 0);
  assert.deepEqual(snapshot(site), once);
  rmSync(site, { recursive: true });
});

test('a hashed file whose name is not its hash fails the build with its name', () => {
  const site = cargoLeptosSite();
  const chunk = readdirSync(join(site, 'pkg')).find((f) => f.startsWith('chunk_'));
  writeFileSync(join(site, 'pkg', chunk), 'changed after hashing');
  const run = rehash(site);
  assert.equal(run.status, 1);
  assert.match(run.stderr, new RegExp(`${chunk.replace(/[.]/g, '\\.')} is not named by the hash of its content`));
  rmSync(site, { recursive: true });
});

test('a file that still names a renamed core file fails the build', () => {
  const site = cargoLeptosSite();
  const { js } = readHashLines(site);
  const extra = `import "./wix-app.${js}.js";`;
  writeFileSync(join(site, 'pkg', `extra.${md5(extra)}.js`), extra);
  const run = rehash(site);
  assert.equal(run.status, 1);
  assert.match(run.stderr, new RegExp(`extra\\..* still names wix-app\\.${js}\\.js`));
  rmSync(site, { recursive: true });
});

test('a core file naming a file that is not there fails the build (e.g. after an interrupted run)', () => {
  const site = cargoLeptosSite();
  const { js } = readHashLines(site);
  const path = join(site, 'pkg', `wix-app.${js}.js`);
  writeFileSync(path, `${readFileSync(path, 'utf8')}import "./__wasm_split.AAAAAAAAAAAAAAAAAAAAAA.js";\n`);
  const run = rehash(site);
  assert.equal(run.status, 1);
  assert.match(run.stderr, /names __wasm_split\.AAAAAAAAAAAAAAAAAAAAAA\.js, which is not in/);
  rmSync(site, { recursive: true });
});

test('a site built without --split is refused with a clear message', () => {
  const site = cargoLeptosSite();
  writeFileSync(join(site, 'hash.txt'), 'js: a\nwasm: b\ncss: c\n');
  const run = rehash(site);
  assert.equal(run.status, 1);
  assert.match(run.stderr, /has no "split" line/);
  rmSync(site, { recursive: true });
});
