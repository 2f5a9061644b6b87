// Signs app instances with Node's crypto exactly as Wix's TypeScript sample verifies them
// (HMAC-SHA256 over the encoded data string, base64 output), to give the Rust verifier vectors
// from an independent implementation. Regenerate with:
//   node scripts/node-instance-vectors.mjs > tests/fixtures/node_instances.json
import { createHmac } from 'node:crypto';

const secret = 'node-vector-secret-5f1c';
const signDate = '2025-06-01T10:00:00.000Z';

const payloads = {
  owner: { instanceId: '6a7b2f10-0000-4000-8000-00000000000a', appDefId: 'app-1', signDate, uid: 'user-1', permissions: 'OWNER', siteOwnerId: 'user-1', vendorProductId: null, demoMode: false, ipAndPort: '1.2.3.4/5' },
  member: { instanceId: '6a7b2f10-0000-4000-8000-00000000000b', signDate, uid: 'member-7', permissions: null, siteMemberId: 'member-7' },
  visitor: { instanceId: '6a7b2f10-0000-4000-8000-00000000000c', signDate, aid: 'anon-9', permissions: null },
  unicode: { instanceId: 'ünï-cødé-✓', signDate, uid: 'u', permissions: 'OWNER', note: 'ß?>>~~' },
};

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const b64std = (buf) => Buffer.from(buf).toString('base64');
const hmac = (data, encoding) => createHmac('sha256', secret).update(data).digest(encoding);

const vectors = [];
for (const [role, payload] of Object.entries(payloads)) {
  const json = JSON.stringify(payload);
  const expectRole = role === 'unicode' ? 'owner' : role;
  // What Wix sends: unpadded base64url on both parts.
  const dataUrl = b64url(json);
  vectors.push({ name: `${role}/base64url`, instance: `${hmac(dataUrl, 'base64url')}.${dataUrl}`, valid: true, instance_id: payload.instanceId, role: expectRole });
  // The standard alphabet with padding, which the seed's base64Decode also accepts.
  const dataStd = b64std(json);
  vectors.push({ name: `${role}/base64-padded`, instance: `${hmac(dataStd, 'base64')}.${dataStd}`, valid: true, instance_id: payload.instanceId, role: expectRole });
  // Signed with another secret.
  const wrong = createHmac('sha256', secret + 'x').update(dataUrl).digest('base64url');
  vectors.push({ name: `${role}/wrong-secret`, instance: `${wrong}.${dataUrl}`, valid: false });
  // Data changed after signing (a different instanceId).
  const forged = b64url(JSON.stringify({ ...payload, instanceId: 'someone-else' }));
  vectors.push({ name: `${role}/forged-data`, instance: `${hmac(dataUrl, 'base64url')}.${forged}`, valid: false });
}

process.stdout.write(JSON.stringify({ secret, generated_by: 'node ' + process.version + ' crypto.createHmac', vectors }, null, 2) + '\n');
