-- wrk script for `npm run bench`: optional pipelining and `Connection: close`, and one JSON result line.
--   wrk ... -s bench/wrk.lua URL -- DEPTH [close]
-- DEPTH requests go out in each write (1: no pipelining). With DEPTH 1 no `request` function is defined, so wrk
-- keeps its pre-built request and spends no Lua call per request.
local depth = 1

init = function(args)
  depth = tonumber(args[1] or "1")
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
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
