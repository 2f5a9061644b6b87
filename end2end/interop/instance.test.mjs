// Rust signs, Node verifies: instances printed by `wix-app sign-instance` must pass Wix's own
// `parseInstance` (the seed's TypeScript), and fail it when tampered with or checked with
// another secret. Run after `cargo leptos build` (or set WIX_APP_BIN).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseInstance } from './seed-parse-instance.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = process.env.WIX_APP_BIN ?? `${root}target/debug/wix-app`;
const secret = 'interop-secret-from-node-test';
const appId = '7d3e1c2b-0000-4000-8000-00000000abcd';

function sign(args) {
  assert.ok(existsSync(bin), `server binary not found at ${bin}; run cargo leptos build first`);
  return execFileSync(bin, ['sign-instance', ...args], {
    cwd: root,
    env: { PATH: process.env.PATH, APP_ENV: 'dev', WIX_APP_ID: appId, WIX_APP_SECRET: secret },
    encoding: 'utf8',
  }).trim();
}

for (const role of ['owner', 'member', 'visitor']) {
  test(`Node's parseInstance accepts a Rust-signed ${role} instance`, () => {
    const instanceId = `interop-${role}-${Date.now()}`;
    const instance = sign(['--instance-id', instanceId, '--role', role, '--subject', `${role}-42`]);
    assert.match(instance, /^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]+$/, 'unpadded base64url, as Wix sends');
    const payload = parseInstance(instance, secret);
    assert.ok(payload, 'parseInstance returned null');
    assert.equal(payload.instanceId, instanceId);
    assert.equal(payload.appDefId, appId);
    assert.ok(!Number.isNaN(Date.parse(payload.signDate)));
    if (role === 'owner') {
      assert.equal(payload.permissions, 'OWNER');
      assert.equal(payload.uid, 'owner-42');
    } else if (role === 'member') {
      assert.equal(payload.permissions, null);
      assert.equal(payload.uid, 'member-42');
    } else {
      assert.equal(payload.aid, 'visitor-42');
      assert.equal(payload.uid, undefined);
    }
  });
}

test('Node rejects a Rust-signed instance under another secret or with changed data', () => {
  const instance = sign(['--instance-id', 'site-x', '--role', 'owner']);
  assert.equal(parseInstance(instance, secret + '!'), null);
  const [sig, data] = instance.split('.');
  const forged = Buffer.from(JSON.stringify({ instanceId: 'site-y', permissions: 'OWNER' })).toString('base64url');
  assert.equal(parseInstance(`${sig}.${forged}`, secret), null);
  assert.notEqual(parseInstance(`${sig}.${data}`, secret), null);
});

test('sign-instance refuses bad input with a clear message', () => {
  assert.throws(
    () => execFileSync(bin, ['sign-instance', '--instance-id', 'x', '--role', 'admin'], { cwd: root, stdio: 'pipe', env: { PATH: process.env.PATH } }),
    (err) => err.status === 2 && /--role must be owner, member or visitor/.test(String(err.stderr)),
  );
});
