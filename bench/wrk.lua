-- wrk script for `npm run bench`: optional pipelining, `Connection: close` and pacing, and one JSON result line.
--   wrk ... -s bench/wrk.lua URL -- DEPTH [close|keep-alive] [DELAY_MS]
-- DEPTH requests go out in each write (1: no pipelining). With DEPTH 1 no `request` function is defined, so wrk
-- keeps its pre-built request and spends no Lua call per request. DELAY_MS > 0 paces every connection: it waits
-- that long after each response before its next request, so C connections offer at most C × 1000 / DELAY_MS
-- requests per second and nothing is saturated.
local depth = 1
local pause = 0

init = function(args)
  depth = tonumber(args[1] or "1")
  pause = tonumber(args[3] or "0")
  if pause > 0 then
    delay = function()
      return pause
    end
  end
  if args[2] == "close" then
    wrk.headers["Connection"] = "close"
  end
  if depth > 1 then
    local batch = {}
    for i = 1, depth do
      batch[i] = wrk.format("GET", "/")
    end
    local pipelined = table.concat(batch)
    request = function()
      return pipelined
    end
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(99),
    latency:percentile(99.9), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
