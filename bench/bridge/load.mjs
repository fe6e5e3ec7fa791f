// Load client for bench/bridge.sh: MCP session starts and tools/call throughput against a streamable-HTTP endpoint.
// Usage: node load.mjs start <url> <sessions> <pauseMs>
//        node load.mjs calls <url> <clients> <seconds>
//        node load.mjs stdio <sessions> <command> [args...]   (the floor: start a process, initialize over a pipe)
//        node load.mjs prestarted <sessions> <command> [args...] (the floor of a warm pool: initialize a process started 2 s before)
//        node load.mjs stdiocalls <seconds> <command> [args...] (the floor: echo calls straight over a pipe)
// Prints one JSON line: {"p50":…,"p99":…,"rps":…,"count":…,"errors":…}; exits 1 when any answer was wrong.
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";

const headers = {
  "Content-Type": "application/json",
  Accept: "application/json, text/event-stream",
  "MCP-Protocol-Version": "2025-06-18",
};
const initialize = JSON.stringify({
  jsonrpc: "2.0", id: 1, method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "1.0" } },
});

async function post(url, body, sessionId) {
  const response = await fetch(url, { method: "POST", headers: sessionId ? { ...headers, "Mcp-Session-Id": sessionId } : headers, body });
  const text = await response.text();
  const data = text.split("\n").filter((l) => l.startsWith("data:")).pop();
  return { status: response.status, sessionId: response.headers.get("mcp-session-id"), message: text && JSON.parse(data ? data.slice(5) : text) };
}

async function openSession(url) {
  const init = await post(url, initialize);
  if (init.status !== 200 || !init.message?.result || !init.sessionId) throw new Error(`initialize failed: ${init.status} ${JSON.stringify(init.message)}`);
  const done = await post(url, JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }), init.sessionId);
  if (done.status !== 202) throw new Error(`initialized failed: ${done.status}`);
  return init.sessionId;
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const report = (latencies, seconds, errors) => {
  const sorted = [...latencies].sort((a, b) => a - b);
  console.log(JSON.stringify({
    p50: +percentile(sorted, 50).toFixed(3), p99: +percentile(sorted, 99).toFixed(3),
    rps: seconds ? +(latencies.length / seconds).toFixed(1) : null, count: latencies.length, errors,
  }));
  process.exitCode = errors ? 1 : 0;
};

async function starts(url, sessions, pauseMs) {
  const latencies = [];
  let errors = 0;
  for (let i = 0; i < sessions; i++) {
    const started = performance.now();
    try {
      const init = await post(url, initialize);
      if (init.status !== 200 || !init.message?.result) throw new Error(`status ${init.status}`);
      latencies.push(performance.now() - started);
      await fetch(url, { method: "DELETE", headers: { ...headers, "Mcp-Session-Id": init.sessionId } });
    } catch (e) {
      errors++;
      console.error(`session ${i}: ${e.message}`);
    }
    await new Promise((r) => setTimeout(r, pauseMs));
  }
  report(latencies, null, errors);
}

async function calls(url, clients, seconds) {
  const latencies = [];
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: clients }, async (_, client) => {
    const sessionId = await openSession(url);
    for (let id = 2; performance.now() < deadline; id++) {
      const text = `client ${client} call ${id}`;
      const started = performance.now();
      const answer = await post(url, JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "echo", arguments: { message: text } } }), sessionId);
      const echoed = answer.message?.result?.content?.[0]?.text ?? "";
      if (answer.status === 200 && answer.message?.id === id && echoed.includes(text)) latencies.push(performance.now() - started);
      else errors++;
    }
    await fetch(url, { method: "DELETE", headers: { ...headers, "Mcp-Session-Id": sessionId } });
  }));
  report(latencies, seconds, errors);
}

async function stdio(sessions, command, args, prestartMs) {
  const latencies = [];
  for (let i = 0; i < sessions; i++) {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "ignore"] });
    await new Promise((r) => setTimeout(r, prestartMs));
    const started = performance.now();
    await new Promise((resolve, reject) => {
      let buffer = "";
      child.stdout.on("data", (chunk) => {
        buffer += chunk;
        if (buffer.includes("\n")) resolve();
      });
      child.on("error", reject);
      child.stdin.write(initialize + "\n");
    });
    latencies.push(performance.now() - started);
    child.kill();
  }
  report(latencies, null, 0);
}

async function stdioCalls(seconds, command, args) {
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "ignore"] });
  let buffer = "";
  let waiting = null;
  child.stdout.on("data", (chunk) => {
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      const message = JSON.parse(line);
      if (waiting && message.id === waiting.id) waiting.resolve(message);
    }
  });
  const call = (id, message) => new Promise((resolve) => {
    waiting = { id, resolve };
    child.stdin.write(JSON.stringify(message) + "\n");
  });
  await call(1, JSON.parse(initialize));
  child.stdin.write(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) + "\n");
  const latencies = [];
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  for (let id = 2; performance.now() < deadline; id++) {
    const started = performance.now();
    const answer = await call(id, { jsonrpc: "2.0", id, method: "tools/call", params: { name: "echo", arguments: { message: `call ${id}` } } });
    if (answer.result?.content?.[0]?.text?.includes(`call ${id}`)) latencies.push(performance.now() - started);
    else errors++;
  }
  child.kill();
  report(latencies, seconds, errors);
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === "start") await starts(rest[0], +rest[1], +rest[2]);
else if (mode === "calls") await calls(rest[0], +rest[1], +rest[2]);
else if (mode === "stdio") await stdio(+rest[0], rest[1], rest.slice(2), 0);
else if (mode === "prestarted") await stdio(+rest[0], rest[1], rest.slice(2), 2000);
else if (mode === "stdiocalls") await stdioCalls(+rest[0], rest[1], rest.slice(2));
else { console.error("usage: node load.mjs start|calls|stdio …"); process.exit(2); }
