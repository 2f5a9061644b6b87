#!/usr/bin/env python3
"""Runs every benchmark against already-built artifacts and prints one table.

Called by bench/run.sh after it has installed and built everything. Needs:
  target/release/wix-app + target/site      (cargo leptos build --release)
  target-bench/criterion/...                 (cargo bench in bench/verify)
  wrk, gzip, brotli, node, /usr/bin/chromium, bench/peer-express/node_modules
The Node side of the verify benchmark (bench/verify-node/parse-instance.mjs) needs only node.

Environment knobs: BENCH_DURATION (seconds per load run, default 10), BENCH_CONNECTIONS (default
32), BENCH_THREADS (wrk threads for the PostgreSQL section, default 2; the side-by-side HTTP load
runs both -t1 and -t2), BENCH_ROUNDS (side-by-side rounds, default 3), BENCH_RUNS (cold-start and
TTI runs, default 7),
BENCH_ONLY=postgres (only the SQLite list/submit load and the PostgreSQL section),
BENCH_PG_DURABLE (1, the default: the PostgreSQL section first restarts the cluster with fsync,
synchronous_commit and full_page_writes on; 0 keeps the cluster's own settings).
Results also go to bench/results/results.json and bench/results/table.md (git-ignored).

PostgreSQL: when TEST_POSTGRES_URL is set (bench/run.sh runs this under scripts/with-postgres.sh),
the list and submit loads also run against PostgreSQL with 1 and with 3 replicas (one release
server process each, each on its own port and a fresh database; wrk cannot balance, so with 3
replicas one wrk per replica runs at once and their rates are summed).
"""

import json
import os
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "results"
BIN = ROOT / "target" / "release" / "wix-app"
SITE = ROOT / "target" / "site"
CRITERION = Path(os.environ.get("CARGO_TARGET_DIR_BENCH", ROOT / "target-bench")) / "criterion"
BARE_AXUM = Path(os.environ.get("CARGO_TARGET_DIR_BENCH", ROOT / "target-bench")) / "release" / "bare-axum"
PEER = BENCH / "peer-express"

DURATION = int(os.environ.get("BENCH_DURATION", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
ONLY = os.environ.get("BENCH_ONLY", "")
PG_URL = os.environ.get("TEST_POSTGRES_URL", "")
PG_DURABLE = os.environ.get("BENCH_PG_DURABLE", "1") != "0"
PG_REPLICAS = [1, 3]
PG_POOL_SIZE = 10

# Obviously fake credentials, used only by these local runs.
APP_ID = "00000000-0000-4000-8000-0000000be0c4"
SECRET = "bench-only-secret-not-a-real-one"
SITE_ID = "9f3c2a1e-7b4d-4e8f-a1b2-c3d4e5f60718"
LIST_BODY = '{"status":"all","limit":20}'
SUBMIT_BODY = json.dumps(
    {"message": "The checkout page took a while to load on my phone, but the support chat was quick and helpful."}
)

TMP = Path(tempfile.mkdtemp(prefix="wix-bench-"))
PROCS = []


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loadavg():
    return os.getloadavg()[0]


def proc_kb(pid, field):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except FileNotFoundError:
        pass
    return None


def healthz(port, timeout=0.5):
    """One raw HTTP/1.1 GET /healthz; True on 200. Raw socket: no client start-up cost in the loop."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def wait_ready(proc, port, deadline_s=60.0, poll_s=0.002):
    start = time.perf_counter()
    while time.perf_counter() - start < deadline_s:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering /healthz")
        if healthz(port):
            return
        time.sleep(poll_s)
    raise RuntimeError("server did not answer /healthz in time")


def rust_env(port, db, dev=False, database_url=None, replicas=None):
    """The server's environment: SQLite file `db`, or `database_url` (PostgreSQL) with `replicas`."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WIX_", "LEPTOS_", "APP_ENV", "DATABASE_URL", "DATABASE_POOL_SIZE", "REPLICAS"))}
    env.update(
        DATABASE_URL=database_url or f"sqlite://{db}",
        LEPTOS_SITE_ADDR=f"127.0.0.1:{port}",
        LEPTOS_SITE_ROOT=str(SITE),
        LEPTOS_OUTPUT_NAME="wix-app",
        LEPTOS_RELOAD_PORT=str(free_port()),
        RUST_LOG=os.environ.get("RUST_LOG", "info"),
        # The load generator is one client hammering as one visitor: lift the per-visitor and
        # concurrency limits so the benchmark measures the server, not the rate limiter.
        SUBMIT_RATE_PER_MINUTE="100000000",
        SUBMIT_BURST="100000000",
        SUBMIT_RATE_PER_ADDRESS_PER_MINUTE="100000000",
        SUBMIT_BURST_PER_ADDRESS="100000000",
        FREE_MONTHLY_SUBMISSIONS="1000000000",
        AUTH_FAILURES_PER_MINUTE="100000000",
        MAX_CONCURRENT_REQUESTS="100000",
    )
    if dev:
        env["APP_ENV"] = "dev"  # built-in dev secret, in-process fake Wix at /_wix
    else:
        env.update(APP_ENV="prod", WIX_APP_ID=APP_ID, WIX_APP_SECRET=SECRET, WIX_API_BASE="http://127.0.0.1:9",
                   # prod requires a webhook key; any real (non-dev) public key will do here.
                   WIX_WEBHOOK_PUBLIC_KEY_FILE=str(ROOT / "tests/fixtures/webhook-test-public.pem"))
    if database_url:
        env.update(REPLICAS=str(replicas or 1), DATABASE_POOL_SIZE=str(PG_POOL_SIZE),
                   # On PostgreSQL the submit limits are shared rows (GCRA in whole microseconds:
                   # 60,000,000 / per-minute). Above 60,000,000 a minute the interval rounds to
                   # 0 µs, the burst window to 0, and concurrent submits get 429: 60,000,000 is
                   # the largest rate that still lifts the limit (1 µs; burst 100 s).
                   SUBMIT_RATE_PER_MINUTE="60000000", SUBMIT_RATE_PER_ADDRESS_PER_MINUTE="60000000")
    return env


def start_rust(port, db, dev=False, database_url=None, replicas=None):
    p = subprocess.Popen([str(BIN)], cwd=ROOT, env=rust_env(port, db, dev, database_url, replicas),
                         stdout=subprocess.DEVNULL, stderr=open(TMP / f"rust-{port}.log", "w"))
    PROCS.append(p)
    return p


def start_express(port, db):
    env = dict(os.environ, PORT=str(port), DATABASE_PATH=str(db), WIX_APP_SECRET=SECRET, NODE_ENV="production")
    p = subprocess.Popen(["node", "server.mjs"], cwd=PEER, env=env,
                         stdout=subprocess.DEVNULL, stderr=open(TMP / f"express-{port}.log", "w"))
    PROCS.append(p)
    return p


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p in PROCS:
        PROCS.remove(p)


def sign(role, instance_id=SITE_ID, dev=False):
    env = rust_env(free_port(), TMP / "unused.db", dev)
    out = subprocess.run([str(BIN), "sign-instance", "--instance-id", instance_id, "--role", role],
                         cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def post(port, path, auth, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body.encode(), method="POST",
                                 headers={"Content-Type": "application/json", "Authorization": auth})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def seed(port, visitor, owner, n=20):
    for i in range(n):
        post(port, "/api/feedback/submit", visitor, json.dumps({"message": f"Seeded feedback number {i + 1}: the page looks great.", "rating": 1 + i % 5}))
    items = post(port, "/api/feedback/list", owner, LIST_BODY)["items"]
    assert len(items) == n, f"expected {n} seeded items, got {len(items)}"


def wrk_cmd(port, path, duration, threads=None, connections=None):
    return ["wrk", "-t", str(threads or THREADS), "-c", str(connections or CONNECTIONS), "-d", f"{duration}s",
            "--latency", "-s", str(BENCH / "wrk-post.lua"), f"http://127.0.0.1:{port}{path}"]


def wrk_result(stdout):
    line = next(l for l in stdout.splitlines() if l.startswith("BENCH_JSON "))
    r = json.loads(line[len("BENCH_JSON "):])
    r["errors"] = r["err_connect"] + r["err_read"] + r["err_write"] + r["err_timeout"] + r["non_2xx"]
    return r


def wrk(port, path, auth, body, duration, threads=None):
    """POST `body` with `auth`; a GET when `auth` and `body` are None."""
    if auth is None:
        env = dict(os.environ, BENCH_METHOD="GET")
    else:
        env = dict(os.environ, BENCH_AUTH=auth, BENCH_BODY=body)
    out = subprocess.run(wrk_cmd(port, path, duration, threads=threads), env=env, check=True,
                         capture_output=True, text=True)
    return wrk_result(out.stdout)


def wrk_many(ports, path, auth, body, duration):
    """Load on several replicas at once, since wrk cannot balance: one wrk per port, one thread
    each, CONNECTIONS split between them (e.g. 11 + 11 + 10), all for the same duration. The sum
    of their rates is the deployment's rate; p50/p99 are the worst replica's."""
    if len(ports) == 1:
        r = wrk(ports[0], path, auth, body, duration)
        r["per_replica"] = [dict(r)]
        return r
    env = dict(os.environ, BENCH_AUTH=auth, BENCH_BODY=body)
    n = len(ports)
    conns = [CONNECTIONS // n + (1 if i < CONNECTIONS % n else 0) for i in range(n)]
    procs = [subprocess.Popen(wrk_cmd(port, path, duration, threads=1, connections=c), env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for port, c in zip(ports, conns)]
    per = []
    for p, c in zip(procs, conns):
        out, err = p.communicate()
        if p.returncode != 0:
            raise RuntimeError(f"wrk exited with {p.returncode}: {err.strip()}")
        r = wrk_result(out)
        r["connections"] = c
        per.append(r)
    total = {k: sum(r[k] for r in per) for k in
             ["requests", "err_connect", "err_read", "err_write", "err_timeout", "non_2xx", "errors"]}
    total.update(
        rps=sum(r["rps"] for r in per),
        duration_us=max(r["duration_us"] for r in per),
        p50_us=max(r["p50_us"] for r in per),
        p99_us=max(r["p99_us"] for r in per),
        max_us=max(r["max_us"] for r in per),
        per_replica=per,
    )
    return total


# ---------------------------------------------------------------------------------------------


def bench_verify():
    res = {}
    for name in ["verify_header_owner", "verify_at_owner", "verify_at_bad_signature"]:
        f = CRITERION / "instance" / name / "new" / "estimates.json"
        if f.exists():
            res[name] = json.loads(f.read_text())["median"]["point_estimate"]
    return res


def bench_verify_node():
    """The seed's Node `parseInstance` on the same typical owner instance as the criterion bench
    (bench/verify-node/parse-instance.mjs): median ns per call. Fails the run if the seed does not
    accept the instance."""
    out = subprocess.run(["node", str(BENCH / "verify-node" / "parse-instance.mjs")], cwd=ROOT,
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_fsync(directory, n=200, size=4096):
    """The disk's flush latency where the SQLite databases live (`directory`), so the submit
    figure (synchronous=FULL: one fsync per group commit) can be read on other disks. `n` times:
    a `size`-byte block written at offset 0 of a temp file, then fsync (and again with fdatasync,
    where the platform has it). Microseconds per write + flush; the temp file is deleted."""
    fd, path = tempfile.mkstemp(prefix="fsync-", dir=directory)
    fs = subprocess.run(["findmnt", "-n", "-o", "SOURCE,FSTYPE", "-T", str(directory)],
                        capture_output=True, text=True).stdout.strip() if shutil.which("findmnt") else ""
    res = {"directory": str(directory), "filesystem": fs, "block_bytes": size, "n": n}
    flushes = [("fsync", os.fsync)] + ([("fdatasync", os.fdatasync)] if hasattr(os, "fdatasync") else [])
    try:
        block = bytearray(os.urandom(size))
        for name, flush in flushes:
            os.pwrite(fd, block, 0)  # the block exists on disk first: every timed write rewrites it
            flush(fd)
            times = []
            for i in range(n):
                block[:8] = i.to_bytes(8, "little")  # new bytes each time: the page is really dirty
                t0 = time.perf_counter()
                os.pwrite(fd, block, 0)
                flush(fd)
                times.append((time.perf_counter() - t0) * 1e6)
            res[name] = {"median_us": statistics.median(times),
                         "p99_us": statistics.quantiles(times, n=100)[98], "max_us": max(times)}
    finally:
        os.close(fd)
        os.unlink(path)
    return res


def bench_load(kind, threads=None):
    port = free_port()
    db = TMP / f"{kind}-load.db"
    db.unlink(missing_ok=True)
    p = start_rust(port, db) if kind == "rust" else start_express(port, db)
    wait_ready(p, port)
    time.sleep(1.0)
    idle_rss = proc_kb(p.pid, "VmRSS")
    owner, visitor = SIGNED["owner"], SIGNED["visitor"]
    seed(port, visitor, owner)
    res = {"idle_rss_kb": idle_rss}
    log(f"{kind}: warm-up")
    wrk(port, "/api/feedback/list", owner, LIST_BODY, 2)
    gets = [("healthz", "/healthz", None, None)]
    if kind == "rust":
        # A static file as browsers fetch it (the production build's hashed CSS, uncompressed).
        css = next((SITE / "pkg").glob("wix-app*.css")).name
        gets.append(("static", f"/pkg/{css}", None, None))
    for name, path, auth, body in [("list", "/api/feedback/list", owner, LIST_BODY),
                                   ("submit", "/api/feedback/submit", visitor, SUBMIT_BODY)] + gets:
        la = loadavg()
        log(f"{kind}: {name} for {DURATION}s (load average {la:.1f})")
        r = wrk(port, path, auth, body, DURATION, threads=threads)
        r["loadavg_before"] = la
        res[name] = r
    # Check the list is still the contract after the load (and that submissions landed).
    items = post(port, "/api/feedback/list", owner, LIST_BODY)["items"]
    assert len(items) == 20 and items[0]["author_kind"] == "visitor"
    res["peak_rss_kb"] = proc_kb(p.pid, "VmHWM")
    stop(p)
    return res


SIDE_BY_SIDE_ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def bench_side_by_side():
    """This app and the Express peer alternated, SIDE_BY_SIDE_ROUNDS rounds for each of wrk -t1
    and -t2 (one wrk thread leaves the server more of the 2 cores). Ratios are per round, so a
    burst of machine noise hits one round of both servers rather than one server."""
    res = {}
    for threads in (1, 2):
        rounds = []
        for i in range(SIDE_BY_SIDE_ROUNDS):
            log(f"side by side: wrk -t{threads}, round {i + 1} of {SIDE_BY_SIDE_ROUNDS}")
            rounds.append({"rust": bench_load("rust", threads), "express": bench_load("express", threads)})
        res[f"t{threads}"] = rounds
    return res


def bench_bare_axum():
    """The floor: axum + tokio + hyper answering `ok`, nothing else (bench/bare-axum)."""
    port = free_port()
    p = subprocess.Popen([str(BARE_AXUM), str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    PROCS.append(p)
    for _ in range(500):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.01)
    wrk(port, "/", None, None, 2)
    r = wrk(port, "/", None, None, DURATION)
    stop(p)
    return r


def bench_cold_start(kind):
    """Process start (just before exec) to the first 200 from /healthz."""
    fresh, existing = [], []
    for i in range(RUNS):
        for bucket, db in [(fresh, TMP / f"{kind}-cold-{i}.db"), (existing, TMP / f"{kind}-cold-0.db")]:
            port = free_port()
            t0 = time.perf_counter()
            p = start_rust(port, db) if kind == "rust" else start_express(port, db)
            wait_ready(p, port)
            bucket.append((time.perf_counter() - t0) * 1000)
            stop(p)
    return {"fresh_db_ms": fresh, "existing_db_ms": existing,
            "fresh_db_median_ms": statistics.median(fresh), "existing_db_median_ms": statistics.median(existing)}


def bench_page_weight():
    """Bytes of the wasm, JS and CSS that /dashboard loads, raw / gzip -9 / brotli -q 11."""
    port = free_port()
    p = start_rust(port, TMP / "weight.db", dev=True)
    wait_ready(p, port)
    owner = sign("owner", dev=True)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/dashboard?instance={owner}", timeout=10) as r:
        html = r.read().decode()
    stop(p)
    refs = sorted(set(re.findall(r'/pkg/[A-Za-z0-9_.\-]+\.(?:wasm|js|css)', html)))
    # The JS glue fetches the wasm itself; the page names the glue and often preloads the wasm.
    files = {Path(r).name for r in refs}
    files |= {f.name for f in (SITE / "pkg").iterdir() if f.suffix == ".wasm" and f.stem in {Path(x).stem for x in files}}
    res = {}
    for name in sorted(files):
        path = SITE / "pkg" / name
        data = path.read_bytes()
        gz = len(subprocess.run(["gzip", "-9", "-c", str(path)], check=True, capture_output=True).stdout)
        br = len(subprocess.run(["brotli", "-q", "11", "-c", str(path)], check=True, capture_output=True).stdout)
        res[name] = {"raw": len(data), "gzip": gz, "brotli": br}
    return {"files": res, "referenced_by_page": refs}


# Chromium's network emulation for bench/tti.mjs: (label, "kbit/s:RTT ms"); None = loopback.
NETWORKS = [("loopback", None), ("10 Mbit/s, 40 ms RTT", "10000:40"), ("1.6 Mbit/s, 150 ms RTT", "1600:150")]
# What "interactive" means per page: the dashboard's summary has answered after hydration; the
# widget has hydrated (its form needs no data).
PAGES = [("dashboard", "owner", '[data-testid="counts"] [data-testid="count-total"]'),
         ("widget", "visitor", 'body[data-hydrated="true"]')]


def bench_tti():
    """Time to interactive and bytes on the wire per page, network profile and cache state."""
    port = free_port()
    p = start_rust(port, TMP / "tti.db", dev=True)
    wait_ready(p, port)
    signed = {"owner": sign("owner", dev=True), "visitor": sign("visitor", dev=True)}
    seed(port, signed["visitor"], signed["owner"])
    res = {}
    try:
        for page, role, ready in PAGES:
            url = f"http://127.0.0.1:{port}/{page}?instance={signed[role]}"
            for label, network in NETWORKS:
                for cache in ("cold", "warm"):
                    cmd = ["node", str(BENCH / "tti.mjs"), url, str(RUNS), "--ready", ready]
                    cmd += ["--network", network] if network else []
                    cmd += ["--warm"] if cache == "warm" else []
                    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
                    res[f"{page} | {label} | {cache}"] = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        stop(p)
    return res


def pg_bin(name):
    """A PostgreSQL client program from the newest /usr/lib/postgresql/<version>/bin, else PATH."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                   key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.parent.name)])
    return str(found[-1]) if found else name


def psql(sql, url=None):
    out = subprocess.run([pg_bin("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url or PG_URL, "-c", sql],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def pg_url(dbname):
    base, _, _ = PG_URL.rpartition("/")
    return f"{base}/{dbname}"


PG_SETTINGS = ["fsync", "synchronous_commit", "full_page_writes", "wal_sync_method", "shared_buffers", "max_connections"]


def pg_settings():
    rows = psql("SELECT name, setting, source FROM pg_settings WHERE name IN ("
                + ",".join(f"'{n}'" for n in PG_SETTINGS) + ") ORDER BY name")
    return {name: {"setting": setting, "source": source}
            for name, setting, source in (r.split("|") for r in rows.splitlines())}


def pg_make_durable():
    """Turns on what makes a commit durable: fsync, synchronous_commit, full_page_writes.

    scripts/with-postgres.sh starts its throwaway cluster with `-c fsync=off -c synchronous_commit=off
    -c full_page_writes=off` on the command line. `ALTER SYSTEM` + `pg_reload_conf()` is tried
    first, but settings given on the command line outrank the configuration files, so for those
    the cluster is restarted (pg_ctl restart, same data directory, port and log; with-postgres.sh
    still stops and deletes it at the end) with the same options, `off` turned to `on`."""
    psql("ALTER SYSTEM SET fsync = on")
    psql("ALTER SYSTEM SET synchronous_commit = on")
    psql("ALTER SYSTEM SET full_page_writes = on")
    psql("SELECT pg_reload_conf()")
    time.sleep(0.5)
    want = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
    s = pg_settings()
    if all(s[k]["setting"] == v for k, v in want.items()):
        log("PostgreSQL: fsync, synchronous_commit, full_page_writes on after ALTER SYSTEM + reload")
        return {"method": "ALTER SYSTEM + pg_reload_conf()"}
    still = ", ".join(f"{k}={s[k]['setting']} (from the {s[k]['source']})" for k in want)
    log(f"PostgreSQL: ALTER SYSTEM did not override {still}; restarting the cluster with them on")
    data = Path(psql("SHOW data_directory"))
    opts = shlex.split((data / "postmaster.opts").read_text())[1:]  # drop the program
    # Drop -D <dir> (pg_ctl passes it) and turn the three settings on.
    kept, i = [], 0
    while i < len(opts):
        if opts[i] == "-D":
            i += 2
            continue
        o = opts[i]
        for k in want:
            if o == f"{k}=off":
                o = f"{k}=on"
        kept.append(o)
        i += 1
    cmd = [pg_bin("pg_ctl"), "-D", str(data), "-l", str(data.parent / "log"), "-w", "-m", "fast",
           "-o", shlex.join(kept), "restart"]
    if os.geteuid() == 0:  # pg_ctl refuses root; with-postgres.sh runs the server as `postgres`
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    subprocess.run(cmd, check=True, capture_output=True, text=True, cwd="/")
    s = pg_settings()
    bad = {k: s[k]["setting"] for k, v in want.items() if s[k]["setting"] != v}
    if bad:
        raise RuntimeError(f"PostgreSQL settings still not durable after the restart: {bad}")
    return {"method": "pg_ctl restart with -c fsync=on -c synchronous_commit=on -c full_page_writes=on",
            "options": shlex.join(kept)}


def bench_pg_replicas(n):
    dbname = f"wix_bench_r{n}"
    psql(f"DROP DATABASE IF EXISTS {dbname}")
    psql(f"CREATE DATABASE {dbname}")
    url = pg_url(dbname)
    ports, procs = [], []
    # The first replica runs the migrations; the others start once it answers.
    for i in range(n):
        port = free_port()
        p = start_rust(port, None, database_url=url, replicas=n)
        wait_ready(p, port)
        ports.append(port)
        procs.append(p)
    time.sleep(1.0)
    res = {"replicas": n, "database": dbname, "pool_size": PG_POOL_SIZE,
           "idle_rss_kb": [proc_kb(p.pid, "VmRSS") for p in procs]}
    owner, visitor = SIGNED["owner"], SIGNED["visitor"]
    seed(ports[0], visitor, owner)
    log(f"postgres x{n}: warm-up")
    wrk_many(ports, "/api/feedback/list", owner, LIST_BODY, 2)
    for name, path, auth, body in [("list", "/api/feedback/list", owner, LIST_BODY),
                                   ("submit", "/api/feedback/submit", visitor, SUBMIT_BODY)]:
        la = loadavg()
        log(f"postgres x{n}: {name} for {DURATION}s (load average {la:.1f})")
        r = wrk_many(ports, path, auth, body, DURATION)
        r["loadavg_before"] = la
        res[name] = r
    # Every replica serves the same data, contract intact, submissions landed.
    for port in ports:
        items = post(port, "/api/feedback/list", owner, LIST_BODY)["items"]
        assert len(items) == 20 and items[0]["author_kind"] == "visitor"
    res["rows_after"] = int(psql("SELECT count(*) FROM feedback", url))
    res["peak_rss_kb"] = [proc_kb(p.pid, "VmHWM") for p in procs]
    for p in procs:
        stop(p)
    return res


def bench_postgres():
    res = {"version": psql("SHOW server_version"), "settings_before": pg_settings()}
    if PG_DURABLE:
        res["durable"] = pg_make_durable()
    res["settings"] = pg_settings()
    log("PostgreSQL " + res["version"] + ": " + ", ".join(
        f"{k}={v['setting']}" for k, v in res["settings"].items()))
    for n in PG_REPLICAS:
        res[f"r{n}"] = bench_pg_replicas(n)
    return res


# ---------------------------------------------------------------------------------------------


def fmt_pg_table(R):
    """SQLite (this run's Rust rows) next to PostgreSQL with 1 and 3 replicas."""
    sq, pg = R["load"]["rust"], R["postgres"]
    cols = [("SQLite, 1 process", sq)] + [(f"PostgreSQL, {n} replica{'s' if n > 1 else ''}", pg[f"r{n}"]) for n in PG_REPLICAS]
    rows = []
    for ep in ["list", "submit"]:
        rows.append([f"{ep}: requests/s"] + [f"{c[ep]['rps']:,.0f}" for _, c in cols])
        rows.append([f"{ep}: p50 latency"] + [f"{c[ep]['p50_us']/1000:.2f} ms" for _, c in cols])
        rows.append([f"{ep}: p99 latency"] + [f"{c[ep]['p99_us']/1000:.2f} ms" for _, c in cols])
        rows.append([f"{ep}: errors / requests"] + [f"{c[ep]['errors']} / {c[ep]['requests']:,}" for _, c in cols])
        for n in PG_REPLICAS:
            if n > 1:
                per = pg[f"r{n}"][ep]["per_replica"]
                rows.append([f"  {ep}, {n} replicas: req/s each"] + [""] * (len(cols) - 1)
                            + [" + ".join(f"{r['rps']:,.0f}" for r in per)])
    rows.append(["peak RSS after load (VmHWM)", f"{sq['peak_rss_kb']/1024:.1f} MB"]
                + [" + ".join(f"{k/1024:.1f}" for k in pg[f"r{n}"]["peak_rss_kb"]) + " MB" for n in PG_REPLICAS])
    head = ["benchmark"] + [name for name, _ in cols]
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    s = pg["settings"]
    note = (f"PostgreSQL {pg['version']} on this machine: fsync={s['fsync']['setting']}, "
            f"synchronous_commit={s['synchronous_commit']['setting']}, full_page_writes={s['full_page_writes']['setting']}; "
            f"DATABASE_POOL_SIZE={PG_POOL_SIZE}. 1 replica: wrk -t{THREADS} -c{CONNECTIONS}; "
            f"{max(PG_REPLICAS)} replicas: {max(PG_REPLICAS)} wrk -t1 at once, {CONNECTIONS} connections split between them, "
            "rates summed, p50/p99 of the worst replica. All replicas, PostgreSQL and wrk share "
            f"{os.cpu_count()} CPUs.")
    if "disk_fsync" in R:
        f = R["disk_fsync"]["fsync"]
        note += (f" Disk: 4 KiB write + fsync in the SQLite database's directory, median {f['median_us']:,.0f} µs, "
                 f"p99 {f['p99_us']:,.0f} µs.")
    return "\n".join([line(head), sep] + [line(r) for r in rows]) + "\n\n" + note


def fmt_table(R):
    rows = []
    L = R["load"]
    rs, ex = L["rust"], L["express"]

    def status(ok):
        return "n/a" if ok is None else ("PASS" if ok else "MISS")

    v = R["verify"].get("verify_header_owner")
    rows.append(["verify owner instance, median (criterion)", f"{v:,.0f} ns" if v else "-", "", "", "<= 1,000 ns", status(v and v <= 1000)])
    v2 = R["verify"].get("verify_at_owner")
    rows.append(["  verify_at only (clock read hoisted)", f"{v2:,.0f} ns" if v2 else "-", "", "", "", ""])
    nv = R["verify"].get("node_parse_instance")
    node = nv["parse_instance_ns_median"] if nv else None
    rows.append(["  seed parseInstance in Node, same instance (median); with `Bearer ` strip", "",
                 f"{node:,.0f} ns; {nv['parse_header_ns_median']:,.0f} ns" if nv else "-", "", "", ""])
    speedup = node / v if node and v else None
    rows.append(["  speed-up: Node parseInstance / Rust verify_header", f"{speedup:.1f}x" if speedup else "-", "", "",
                 ">= 5x", status(speedup and speedup >= 5)])
    for ep, mult in [("list", 4), ("submit", 3)]:
        a, b = rs[ep], ex[ep]
        ratio = a["rps"] / b["rps"] if b["rps"] else float("inf")
        rows.append([f"{ep}: requests/s", f"{a['rps']:,.0f}", f"{b['rps']:,.0f}", f"{ratio:.2f}x", f">= {mult}x Express", status(ratio >= mult)])
        rows.append([f"{ep}: p50 latency", f"{a['p50_us']/1000:.2f} ms", f"{b['p50_us']/1000:.2f} ms", f"{a['p50_us']/max(b['p50_us'],1):.2f}x", "", ""])
        rows.append([f"{ep}: p99 latency", f"{a['p99_us']/1000:.2f} ms", f"{b['p99_us']/1000:.2f} ms", f"{a['p99_us']/max(b['p99_us'],1):.2f}x", "lower than Express", status(a["p99_us"] < b["p99_us"])])
        rows.append([f"{ep}: errors / requests", f"{a['errors']} / {a['requests']:,}", f"{b['errors']} / {b['requests']:,}", "", "0 errors", status(a["errors"] == 0)])
    if "disk_fsync" in R:
        d = R["disk_fsync"]
        for name in ["fsync", "fdatasync"]:
            if name in d:
                rows.append([f"disk {name} latency ({d['block_bytes'] // 1024} KiB write + {name}), median / p99",
                             f"{d[name]['median_us']:,.0f} / {d[name]['p99_us']:,.0f} µs", "", "", "", ""])
    for name, label in [("healthz", "GET /healthz"), ("static", "GET a static file (CSS)")]:
        a = rs.get(name)
        if a is None:
            continue
        b = ex.get(name)
        ratio = a["rps"] / b["rps"] if b else None
        target = ">= 4x Express" if name == "healthz" else ""
        rows.append([f"{label}: requests/s; p99", f"{a['rps']:,.0f}; {a['p99_us']/1000:.2f} ms",
                     f"{b['rps']:,.0f}; {b['p99_us']/1000:.2f} ms" if b else "",
                     f"{ratio:.2f}x" if ratio else "", target,
                     status(ratio >= 4) if target else ""])
    if "bare_axum" in R:
        f = R["bare_axum"]
        rows.append(["bare axum hello world (the floor): requests/s; p99", f"{f['rps']:,.0f}; {f['p99_us']/1000:.2f} ms", "", "", "", ""])
    rows.append(["peak RSS after load (VmHWM)", f"{rs['peak_rss_kb']/1024:.1f} MB", f"{ex['peak_rss_kb']/1024:.1f} MB", "", "", ""])
    rows.append(["idle RSS after start (VmRSS)", f"{rs['idle_rss_kb']/1024:.1f} MB", f"{ex['idle_rss_kb']/1024:.1f} MB", "", "< 30 MB", status(rs["idle_rss_kb"] < 30 * 1024)])
    cr, ce = R["cold"]["rust"], R["cold"]["express"]
    rows.append(["cold start to /healthz 200, new DB (median)", f"{cr['fresh_db_median_ms']:.0f} ms", f"{ce['fresh_db_median_ms']:.0f} ms", "", "< 200 ms", status(cr["fresh_db_median_ms"] < 200)])
    rows.append(["cold start to /healthz 200, existing DB", f"{cr['existing_db_median_ms']:.0f} ms", f"{ce['existing_db_median_ms']:.0f} ms", "", "< 200 ms", status(cr["existing_db_median_ms"] < 200)])
    files = R["weight"]["files"]
    wj = [f for f in files if f.endswith((".wasm", ".js"))]
    css = [f for f in files if f.endswith(".css")]
    g = sum(files[f]["gzip"] for f in wj)
    b = sum(files[f]["brotli"] for f in wj)
    raw = sum(files[f]["raw"] for f in wj)
    rows.append(["dashboard wasm+JS: raw / gzip / brotli", f"{raw/1024:.0f} / {g/1024:.1f} / {b/1024:.1f} KB", "", "", "<= 200 KB gzip", status(g <= 200 * 1024)])
    for f in sorted(files):
        x = files[f]
        rows.append([f"  {f}: raw / gzip / brotli", f"{x['raw']/1024:.0f} / {x['gzip']/1024:.1f} / {x['brotli']/1024:.1f} KB", "", "", "", ""])
    if css:
        tg = sum(files[f]["gzip"] for f in files)
        tb = sum(files[f]["brotli"] for f in files)
        rows.append(["dashboard wasm+JS+CSS: gzip / brotli", f"{tg/1024:.1f} / {tb/1024:.1f} KB", "", "", "", ""])
    for key, t in R["tti"].items():
        page, network, cache = key.split(" | ")
        target = ""
        if (page, network, cache) == ("dashboard", "loopback", "cold"):
            target = "<= 250 ms"
            ok = t["median_ms"] <= 250
        elif (page, network, cache) == ("dashboard", "10 Mbit/s, 40 ms RTT", "cold"):
            target = "<= 400 ms; wire <= 210 KB"
            ok = t["median_ms"] <= 400 and t["median_wire_bytes"] <= 210 * 1024
        elif cache == "warm":
            target = "only HTML + API on the wire"
            ok = set(t["network_requests"]) <= {"Document", "Fetch"}
        fetched = ", ".join(f"{k} {v}" for k, v in sorted(t["network_requests"].items()))
        rows.append([f"{page} TTI, {network}, {cache} cache (median); wire; fetched",
                     f"{t['median_ms']:.0f} ms; {t['median_wire_bytes']/1024:.1f} KB; {fetched}", "", "",
                     target, status(ok) if target else ""])

    head = ["benchmark", "wix-app (Rust)", "Express peer", "Rust/Express", "target", "status"]
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(head), sep] + [line(r) for r in rows])


def fmt_side_by_side(R):
    """Median requests/s and p99 of each server, and the median of the per-round ratios."""
    head = ["endpoint (wrk -c%d)" % CONNECTIONS, "wrk threads", "wix-app req/s (median)", "Express req/s (median)",
            "ratio (median of rounds)", "wix-app p99 / Express p99 (median)", "errors (all rounds)"]
    rows = []
    for key, rounds in R["side_by_side"].items():
        for ep in ["healthz", "list", "submit"]:
            if ep not in rounds[0]["express"]:
                continue
            med = lambda kind, field: statistics.median(r[kind][ep][field] for r in rounds)
            ratio = statistics.median(r["rust"][ep]["rps"] / r["express"][ep]["rps"] for r in rounds)
            errors = sum(r["rust"][ep]["errors"] for r in rounds)
            rows.append([ep, key[1:], f"{med('rust', 'rps'):,.0f}", f"{med('express', 'rps'):,.0f}", f"{ratio:.2f}x",
                         f"{med('rust', 'p99_us')/1000:.2f} / {med('express', 'p99_us')/1000:.2f} ms", str(errors)])
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(head), sep] + [line(r) for r in rows])


def main():
    if ONLY not in ("", "postgres"):
        sys.exit(f"BENCH_ONLY={ONLY!r}: the only value is `postgres` (unset runs everything)")
    if ONLY == "postgres" and not PG_URL:
        sys.exit("BENCH_ONLY=postgres needs TEST_POSTGRES_URL (run under scripts/with-postgres.sh)")
    for need in [BIN, SITE / "pkg"]:
        if not need.exists():
            sys.exit(f"missing {need}: run bench/run.sh (it builds everything)")
    OUT.mkdir(exist_ok=True)
    global SIGNED
    SIGNED = {"owner": sign("owner"), "visitor": sign("visitor")}
    R = {"machine": {"nproc": os.cpu_count(), "loadavg_start": os.getloadavg(),
                     "kernel": os.uname().release, "duration_s": DURATION, "connections": CONNECTIONS,
                     "wrk_threads": THREADS, "runs": RUNS, "only": ONLY}}
    log("disk fsync latency")
    R["disk_fsync"] = bench_fsync(TMP)
    if ONLY == "postgres":
        log("HTTP load (SQLite, for comparison)")
        R["load"] = {"rust": bench_load("rust")}
        log("PostgreSQL")
        R["postgres"] = bench_postgres()
        R["machine"]["loadavg_end"] = os.getloadavg()
        table = fmt_pg_table(R)
        (OUT / "results.json").write_text(json.dumps(R, indent=2))
        (OUT / "table.md").write_text(table + "\n")
        la = R["machine"]
        print(f"\nwix-app benchmarks (BENCH_ONLY=postgres): {la['nproc']} CPUs, load average "
              f"{la['loadavg_start'][0]:.1f} at start / {la['loadavg_end'][0]:.1f} at end; {DURATION}s per load run\n")
        print(table)
        return
    R["verify"] = bench_verify()
    log("verify: the seed's parseInstance in Node")
    R["verify"]["node_parse_instance"] = bench_verify_node()
    log("cold start")
    R["cold"] = {"rust": bench_cold_start("rust"), "express": bench_cold_start("express")}
    log("HTTP load, side by side with Express")
    R["side_by_side"] = bench_side_by_side()
    # The main table shows the last -t2 round; the side-by-side table shows the medians.
    R["load"] = R["side_by_side"]["t2"][-1]
    log("bare axum (the floor)")
    R["bare_axum"] = bench_bare_axum()
    log("page weight")
    R["weight"] = bench_page_weight()
    log("time to interactive")
    R["tti"] = bench_tti()
    if PG_URL:
        log("PostgreSQL")
        R["postgres"] = bench_postgres()
    else:
        log("PostgreSQL skipped: TEST_POSTGRES_URL is not set (bench/run.sh sets it)")
    R["machine"]["loadavg_end"] = os.getloadavg()
    (OUT / "results.json").write_text(json.dumps(R, indent=2))  # before formatting: never lost
    table = fmt_table(R) + "\n\n" + fmt_side_by_side(R)
    if "postgres" in R:
        table += "\n\n" + fmt_pg_table(R)
    (OUT / "results.json").write_text(json.dumps(R, indent=2))
    (OUT / "table.md").write_text(table + "\n")
    la = R["machine"]
    print(f"\nwix-app benchmarks: {la['nproc']} CPUs, load average {la['loadavg_start'][0]:.1f} at start / "
          f"{la['loadavg_end'][0]:.1f} at end; wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION}s\n")
    print(table)


if __name__ == "__main__":
    try:
        main()
    finally:
        for p in list(PROCS):
            stop(p)
        shutil.rmtree(TMP, ignore_errors=True)
