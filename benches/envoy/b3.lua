-- wrk script for benches/envoy/load.sh: every request carries B3 (multi by default, single with
-- B3=single in the environment) and names its caller (`x-client-name`, CALLER in the environment;
-- harmless to the arms that do not count per caller), and `done` prints one machine-readable RESULT
-- line.
local mode = os.getenv("B3") or "multi"
wrk.headers["x-client-name"] = os.getenv("CALLER") or "checkout"
if mode == "single" then
  wrk.headers["b3"] = "0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1"
else
  wrk.headers["X-B3-TraceId"] = "0af7651916cd43dd8448eb211c80319c"
  wrk.headers["X-B3-SpanId"] = "b7ad6b7169203331"
  wrk.headers["X-B3-Sampled"] = "1"
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT rps=%.1f p50_us=%d p99_us=%d requests=%d errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99),
    summary.requests, e.connect + e.read + e.write + e.timeout, e.status))
end
