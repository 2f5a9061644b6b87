// Benchmark peer: the two feedback endpoints of wix-app in Node/Express + better-sqlite3.
// Auth is the Wix seed's TypeScript `parseInstance` (HMAC-SHA256 over the encoded payload,
// compared as base64 strings), transcribed to JS. Same JSON contract, same SQLite schema (the
// app's own migrations), same pragmas (WAL, synchronous=NORMAL, busy_timeout, foreign keys).
//
// env: PORT (default 3100), DATABASE_PATH (default ./peer.db), WIX_APP_SECRET (required)
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import express from 'express';
import { parseInstance } from './seed-parse-instance.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const PORT = Number(process.env.PORT || 3100);
const SECRET = process.env.WIX_APP_SECRET;
if (!SECRET) {
  console.error('peer-express: WIX_APP_SECRET is required');
  process.exit(2);
}

// ---- database: the app's migrations, applied once ----
const db = new Database(process.env.DATABASE_PATH || join(here, 'peer.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
db.pragma('foreign_keys = ON');
const hasSchema = db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='feedback'").get();
if (!hasSchema) {
  const dir = join(here, '..', '..', 'migrations', 'sqlite');
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) {
    db.exec(readFileSync(join(dir, f), 'utf8'));
  }
}

const COLUMNS =
  'f.id, f.message, f.email, f.rating, f.status, f.author_kind, f.created_at, s.state AS sync_state, s.contact_id';
const FROM = 'FROM feedback f LEFT JOIN contact_sync s ON s.feedback_id = f.id WHERE f.instance_id = ?';
const ORDER = 'ORDER BY f.created_at DESC, f.id DESC LIMIT ?';
const AFTER = 'AND (f.created_at < ? OR (f.created_at = ? AND f.id < ?))';
const listStmts = {};
for (const status of ['all', 'open', 'resolved']) {
  const where = status === 'all' ? '' : `AND f.status = '${status}'`;
  listStmts[status] = db.prepare(`SELECT ${COLUMNS} ${FROM} ${where} ${ORDER}`);
  listStmts[status + '+cursor'] = db.prepare(`SELECT ${COLUMNS} ${FROM} ${where} ${AFTER} ${ORDER}`);
}
const insertFeedback = db.prepare(
  `INSERT INTO feedback (id, instance_id, message, email, rating, status, author_kind, author_id, created_at, updated_at)
   VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?, ?)`,
);
const insertSync = db.prepare(
  `INSERT INTO contact_sync (feedback_id, instance_id, email, state, attempts, next_attempt_at, updated_at)
   VALUES (?, ?, ?, 'pending', 0, ?, ?)`,
);
const insertTx = db.transaction((row, email, nowMs) => {
  insertFeedback.run(row);
  if (email) insertSync.run(row[0], row[1], email, nowMs, nowMs);
});

// ---- HTTP ----
const fail = (res, status, error, message) => res.status(status).json({ error, message });
const rfc3339 = (us) => new Date(Math.floor(us / 1000)).toISOString().replace(/\.\d{3}Z$/, (m) => m.slice(0, 4) + String(us % 1000).padStart(3, '0') + 'Z');
const roleOf = (p) => (p.aid ? ['visitor', p.aid] : p.permissions === 'OWNER' ? ['owner', p.uid ?? null] : p.uid ? ['member', p.uid] : ['visitor', null]);

function authenticate(req, res) {
  let header = req.get('authorization');
  if (!header) return fail(res, 401, 'missing_authorization', 'no Authorization header'), null;
  if (header.startsWith('Bearer ')) header = header.slice(7);
  let payload = null;
  try {
    payload = parseInstance(header.trim(), SECRET);
  } catch {
    return fail(res, 401, 'malformed_instance', 'the instance is malformed'), null;
  }
  if (!payload) return fail(res, 401, 'invalid_signature', 'the instance signature does not match'), null;
  if (!payload.instanceId) return fail(res, 401, 'missing_instance_id', 'no instanceId'), null;
  const [role, subject] = roleOf(payload);
  return { instanceId: payload.instanceId, role, subject };
}

const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.use((req, res, next) => {
  res.set('X-Content-Type-Options', 'nosniff');
  res.set('Referrer-Policy', 'no-referrer');
  next();
});
app.use('/api', (req, res, next) => {
  if (req.method === 'POST' && !req.is('application/json')) return fail(res, 415, 'unsupported_media_type', 'send application/json');
  next();
});
app.use('/api', express.json({ limit: '64kb' }));

app.post('/api/feedback/submit', (req, res) => {
  const caller = authenticate(req, res);
  if (!caller) return;
  const body = req.body ?? {};
  const message = typeof body.message === 'string' ? body.message.trim() : '';
  if (message.length < 1 || [...message].length > 2000) return fail(res, 400, 'invalid_input', 'message must be 1-2000 characters');
  const email = typeof body.email === 'string' && body.email.trim() ? body.email.trim() : null;
  if (email && !/^[^@\s]+@[^@\s]+$/.test(email)) return fail(res, 400, 'invalid_input', 'email is not valid');
  const rating = body.rating ?? null;
  if (rating !== null && !(Number.isInteger(rating) && rating >= 1 && rating <= 5)) return fail(res, 400, 'invalid_input', 'rating must be 1-5');
  const nowMs = Date.now();
  const nowUs = nowMs * 1000;
  const id = randomUUID();
  insertTx([id, caller.instanceId, message, email, rating, caller.role, caller.subject, nowUs, nowUs], email, nowMs);
  res.json({ id, created_at: rfc3339(nowUs) });
});

app.post('/api/feedback/list', (req, res) => {
  const caller = authenticate(req, res);
  if (!caller) return;
  if (caller.role !== 'owner') return fail(res, 403, 'forbidden', 'owners only');
  const body = req.body ?? {};
  const status = body.status ?? 'open';
  if (!['open', 'resolved', 'all'].includes(status)) return fail(res, 400, 'invalid_input', 'bad status');
  const limit = body.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) return fail(res, 400, 'invalid_input', 'limit must be 1-100');
  let rows;
  if (body.cursor) {
    const [created, cid] = Buffer.from(String(body.cursor), 'base64url').toString('utf8').split(':');
    if (!cid || !/^\d+$/.test(created)) return fail(res, 400, 'invalid_input', 'bad cursor');
    rows = listStmts[status + '+cursor'].all(caller.instanceId, Number(created), Number(created), cid, limit + 1);
  } else {
    rows = listStmts[status].all(caller.instanceId, limit + 1);
  }
  const items = rows.slice(0, limit).map((r) => ({
    id: r.id,
    message: r.message,
    email: r.email,
    rating: r.rating,
    status: r.status,
    created_at: rfc3339(r.created_at),
    author_kind: r.author_kind,
    contact: r.sync_state ? { state: r.sync_state, contact_id: r.contact_id } : null,
  }));
  const last = rows.length > limit ? rows[limit - 1] : null;
  const next_cursor = last ? Buffer.from(`${last.created_at}:${last.id}`).toString('base64url') : null;
  res.json({ items, next_cursor });
});

app.get('/healthz', (req, res) => {
  db.prepare('SELECT 1').get();
  res.json({ status: 'ok' });
});

app.listen(PORT, '127.0.0.1', () => console.log(`peer-express listening on 127.0.0.1:${PORT}`));
