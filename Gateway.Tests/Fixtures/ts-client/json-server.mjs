// A stateless MCP server of the TypeScript SDK that answers every POST with JSON (enableJsonResponse), not SSE, so
// the tests see the gateway handle both kinds of answer. Usage: node json-server.mjs <port>; prints "listening".
// POST /control/describe {"name":"whoami","description":"..."} changes a tool's description from the next request on.
import http from "node:http";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";

const port = Number(process.argv[2]);
const descriptions = new Map();

function newServer() {
  const server = new McpServer({ name: "json-upstream", version: "1.0.0" });
  for (const name of ["echo", "whoami", "delete_everything"]) {
    server.registerTool(name, { description: descriptions.get(name) ?? `The ${name} tool.`, inputSchema: { text: z.string().optional() } },
      async ({ text }) => ({ content: [{ type: "text", text: `${name}: ${text ?? ""}` }] }));
  }
  for (const name of ["greet", "internal_prompt"]) {
    server.registerPrompt(name, { description: `The ${name} prompt.` }, async () => ({ messages: [{ role: "user", content: { type: "text", text: name } }] }));
  }
  for (const uri of ["test://readme", "test://secret/keys"]) {
    server.registerResource(uri, uri, { mimeType: "text/plain" }, async (u) => ({ contents: [{ uri: u.href, text: uri }] }));
  }
  return server;
}

http.createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString()) : undefined;
  if (req.url === "/control/describe") {
    descriptions.set(body.name, body.description);
    res.writeHead(204).end();
    return;
  }
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on("close", () => transport.close());
  await newServer().connect(transport);
  await transport.handleRequest(req, res, body);
}).listen(port, "127.0.0.1", () => console.log("listening"));
