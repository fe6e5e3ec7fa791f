// Connects the TypeScript SDK client to an MCP endpoint (with a bearer token when given), lists the tools, calls
// echo (or the tool named by --tool=<name>), ends the session, and prints what it saw as one JSON line.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const args = process.argv.slice(2);
const tool = args.find(a => a.startsWith("--tool="))?.slice("--tool=".length) ?? "echo";
const [url, token] = args.filter(a => !a.startsWith("--"));
const transport = new StreamableHTTPClientTransport(
  new URL(url),
  token ? { requestInit: { headers: { Authorization: `Bearer ${token}` } } } : undefined);
const client = new Client({ name: "gateway-tests-ts-client", version: "1.0.0" });
await client.connect(transport);
const tools = await client.listTools();
const result = await client.callTool({ name: tool, arguments: { message: "from typescript" } });
const sessionId = transport.sessionId;
await transport.terminateSession();
await client.close();
console.log(JSON.stringify({ tools: tools.tools.map(t => t.name), text: result.content[0].text, sessionId }));
