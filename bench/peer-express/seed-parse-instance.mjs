// The Wix seed's TypeScript `parseInstance` (HMAC-SHA256 over the encoded payload, compared as
// base64 strings), transcribed to JS, verbatim in behaviour. One copy: the Express peer
// (server.mjs) authenticates with it and bench/verify-node times it.
import { createHmac } from 'node:crypto';

export function parseInstance(instance, appSecret) {
  var parts = instance.split('.'),
    hash = parts[0],
    payload = parts[1];
  if (!payload) return null;
  if (!validateInstance(hash, payload, appSecret)) return null;
  return JSON.parse(base64Decode(payload, 'utf8'));
}
function validateInstance(hash, payload, secret) {
  if (!hash) return false;
  hash = base64Decode(hash);
  var signedHash = createHmac('sha256', secret).update(payload).digest('base64');
  return hash === signedHash;
}
function base64Decode(input, encoding = 'base64') {
  return Buffer.from(input.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString(encoding);
}
