-- tools/call echo within one MCP session (the Mcp-Session-Id header is given with -H). Every request gets its own
-- JSON-RPC id, and every answer is checked to be that call's result; failures are counted and reported.
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  failures = 0
  -- Added to wrk.headers, which already holds the -H session header: wrk.format with a table of its own drops them.
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json, text/event-stream"
  wrk.headers["MCP-Protocol-Version"] = "2025-06-18"
end

function request()
  counter = counter + 1
  local id = tid * 100000000 + counter
  local body = string.format('{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"echo","arguments":{"message":"m%d"}}}', id, id)
  return wrk.format("POST", nil, nil, body)
end

function response(status, headers, body)
  if status ~= 200 or not string.find(body, '"result"', 1, true) then
    failures = failures + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get("failures") or 0)
  end
  io.write(string.format("Failed answers: %d\n", total))
end
