-- wrk_report.lua -- one machine-readable line at the end of a wrk run, for
-- bench/run.sh: completed responses, bytes read (partial responses
-- included, so a bulk download's rate is exact), the run's real duration,
-- every kind of socket error, and latency percentiles.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "wrk requests=%d bytes=%d duration_us=%d err_connect=%d err_read=%d " ..
    "err_write=%d err_status=%d err_timeout=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.bytes, summary.duration, e.connect, e.read,
    e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(99)))
end
