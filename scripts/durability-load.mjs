// Fires submissions at the server and records every one it acknowledged (2xx) with its id.
// Usage: node durability-load.mjs <base-url> <instance> <count> <concurrency> <acked-file>
import { appendFileSync, writeFileSync } from 'node:fs';

const [base, instance, count, concurrency, ackedFile] = process.argv.slice(2);
const total = Number(count);
let next = 0, acked = 0, failed = 0;
writeFileSync(ackedFile, '');

async function worker() {
  while (next < total) {
    const n = next++;
    try {
      const res = await fetch(`${base}/api/feedback/submit`, {
        method: 'POST',
        headers: { authorization: instance, 'content-type': 'application/json' },
        body: JSON.stringify({ message: `durability ${n}` }),
      });
      const body = await res.json().catch(() => ({}));
      if (res.ok && body.id) {
        appendFileSync(ackedFile, body.id + '\n');
        acked++;
      } else {
        failed++;
      }
    } catch {
      failed++;
    }
  }
}

await Promise.all(Array.from({ length: Number(concurrency) }, worker));
console.log(JSON.stringify({ sent: total, acked, failed }));
