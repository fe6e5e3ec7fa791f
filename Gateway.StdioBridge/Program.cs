// The stdio bridge (stdio MCP servers behind streamable-HTTP endpoints) is built under its own issue; until then
// this executable only states that, so scripts that call it fail loudly rather than silently.
await Console.Error.WriteLineAsync("Gateway.StdioBridge: the stdio bridge is not part of this build yet.").ConfigureAwait(false);
return 2;
