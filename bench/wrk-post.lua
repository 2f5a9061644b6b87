-- wrk script: POST a JSON body with an Authorization header, both from the environment, and
-- print one machine-readable line at the end.
--   BENCH_AUTH  the signed instance;  BENCH_BODY  the JSON body
--   BENCH_METHOD=GET  a plain GET instead (no body, no Authorization): /healthz, static files
if os.getenv("BENCH_METHOD") == "GET" then
  wrk.method = "GET"
else
  wrk.method = "POST"
  wrk.body = os.getenv("BENCH_BODY")
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = os.getenv("BENCH_AUTH")
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_JSON {\"requests\":%d,\"duration_us\":%d,\"rps\":%.1f,\"p50_us\":%d,\"p99_us\":%d,\"max_us\":%d," ..
    "\"err_connect\":%d,\"err_read\":%d,\"err_write\":%d,\"err_timeout\":%d,\"non_2xx\":%d}\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout, e.status))
end
