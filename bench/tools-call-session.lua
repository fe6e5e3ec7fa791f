-- One MCP tools/call in the session named by BENCH_SESSION (MCP 2025-11-25), of the tool named by BENCH_TOOL.
local tool = os.getenv("BENCH_TOOL") or "echo"
wrk.method = "POST"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"' .. tool .. '","arguments":{"message":"hello from the benchmark"}}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2025-11-25"
wrk.headers["Mcp-Session-Id"] = os.getenv("BENCH_SESSION")
