// The Node side of the instance-verification benchmark: the seed's `parseInstance` (Wix's
// documented TypeScript sample, the one copy in bench/peer-express/seed-parse-instance.mjs that
// the Express peer also runs) on the same typical owner instance the criterion bench
// (bench/verify/benches/verify.rs) verifies: same secret, same ids, same payload fields in the same order as
// `InstanceClaims::for_role(.., Role::Owner, ..).sign(SECRET)`, signDate = now.
//
// Plain Node 20, no npm packages. Timing: WARMUP calls, then SAMPLES samples of ITERATIONS calls
// each, timed with process.hrtime.bigint(); the median of the per-call times is reported.
//
// usage: node bench/verify-node/parse-instance.mjs [samples] [iterations_per_sample]
// Prints one JSON line: {"parse_instance_ns_median":...,"parse_header_ns_median":...,...}
//   parse_instance: parseInstance(instance, SECRET) alone.
//   parse_header:   `Authorization: Bearer <instance>` stripped as the Express peer does, then
//                   parseInstance (the shape of the Rust `verify_header_owner`, minus its clock
//                   read and expiry check, which the seed does not have).
import { createHmac } from 'node:crypto';
import { parseInstance } from '../peer-express/seed-parse-instance.mjs';

const SECRET = 'bench-secret-not-a-real-one';
const APP_ID = '00000000-0000-4000-8000-0000000bench';
const INSTANCE_ID = '9f3c2a1e-7b4d-4e8f-a1b2-c3d4e5f60718';
const OWNER_UID = '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b';
const WARMUP = 50_000;

const args = process.argv.slice(2);
const samples = Number(args[0] ?? 30);
const iterations = Number(args[1] ?? 20_000);
if (!Number.isInteger(samples) || samples < 1 || !Number.isInteger(iterations) || iterations < 1) {
  console.error('usage: node bench/verify-node/parse-instance.mjs [samples] [iterations_per_sample]');
  process.exit(2);
}

// As bench/peer-express/server.mjs reads the Authorization header.
function parseHeader(header, appSecret) {
  if (header.startsWith('Bearer ')) header = header.slice(7);
  return parseInstance(header, appSecret);
}

// ---- a typical owner instance, signed as src/auth/instance/sign.rs signs it ----
// serde serializes InstanceClaims in field order, skipping `aid` (None for an owner);
// `permissions` and `vendorProductId` are Options serialized as values or null.
// signDate: chrono's to_rfc3339_opts(SecondsFormat::Millis, true) = toISOString().
const claims = {
  instanceId: INSTANCE_ID,
  appDefId: APP_ID,
  signDate: new Date().toISOString(),
  uid: OWNER_UID,
  permissions: 'OWNER',
  siteOwnerId: `owner-of-${INSTANCE_ID}`,
  vendorProductId: null,
  demoMode: false,
};
const data = Buffer.from(JSON.stringify(claims)).toString('base64url');
const signature = createHmac('sha256', SECRET).update(data).digest('base64url');
const instance = `${signature}.${data}`;
const header = `Bearer ${instance}`;

// The bench fails honestly: the seed must accept the instance and read its id.
for (const [name, got] of [['parseInstance', parseInstance(instance, SECRET)], ['parseHeader', parseHeader(header, SECRET)]]) {
  if (got?.instanceId !== INSTANCE_ID) {
    console.error(`${name} did not return the instance id: ${JSON.stringify(got)}`);
    process.exit(1);
  }
}
const forged = (instance[0] === 'A' ? 'B' : 'A') + instance.slice(1);
if (parseInstance(forged, SECRET) !== null) {
  console.error('parseInstance accepted a forged instance');
  process.exit(1);
}

// Median per-call ns of `fn(arg, SECRET)`; the sink keeps every result used.
let sink = 0;
function measure(fn, arg) {
  for (let i = 0; i < WARMUP; i++) sink += fn(arg, SECRET).instanceId.length;
  const perCall = [];
  for (let s = 0; s < samples; s++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) sink += fn(arg, SECRET).instanceId.length;
    perCall.push(Number(process.hrtime.bigint() - t0) / iterations);
  }
  perCall.sort((a, b) => a - b);
  const mid = perCall.length >> 1;
  const median = perCall.length % 2 ? perCall[mid] : (perCall[mid - 1] + perCall[mid]) / 2;
  return { median, min: perCall[0], max: perCall[perCall.length - 1] };
}

const parse = measure(parseInstance, instance);
const withHeader = measure(parseHeader, header);
if (sink === 0) process.exit(1);

console.log(JSON.stringify({
  parse_instance_ns_median: Math.round(parse.median * 10) / 10,
  parse_instance_ns_min: Math.round(parse.min * 10) / 10,
  parse_instance_ns_max: Math.round(parse.max * 10) / 10,
  parse_header_ns_median: Math.round(withHeader.median * 10) / 10,
  samples,
  iterations_per_sample: iterations,
  warmup: WARMUP,
  instance_bytes: instance.length,
  node: process.version,
}));
