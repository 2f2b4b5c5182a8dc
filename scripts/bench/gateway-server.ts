// The server side of scripts/bench/gateway.ts, run as a child process so the node and the clients
// each get a core, as on a real box. Modes:
//   sluice <dataDir>   a Sluice node (the app main.ts serves) on a free loopback port
//   raw                the reference: bare Bun.serve that reads POST bodies and answers {}, and a
//                      WebSocket that sends `count` binary frames of `size` bytes as fast as
//                      backpressure allows (what Bun itself does on this box, with no Sluice in it)
// Prints "PORT <n>" once listening; exits when its stdin closes.
import { startHttpServer } from "../../lib/platform/http-server.ts";
import { LogManager } from "../../lib/topics/log-manager.ts";
import { createApp } from "../../routes/app.ts";

const [mode, dataDir] = process.argv.slice(2);

async function exitWithParent(stop: () => Promise<void>): Promise<never> {
  const reader = Bun.stdin.stream().getReader();
  // stdin stays open while the bench runs, and reaches its end when the bench closes it or exits.
  while (!(await reader.read()).done) {}
  await stop();
  process.exit(0);
}

if (mode === "sluice") {
  const logs = LogManager.open({ dataDir: dataDir! });
  const server = startHttpServer({ fetch: createApp({ logs }).fetch, port: 0, hostname: "127.0.0.1" });
  console.log(`PORT ${server.port}`);
  await exitWithParent(async () => {
    await server.stop(true);
    await logs.close();
  });
} else {
  interface Pump {
    left: number;
    payload: Uint8Array;
  }
  const pump = (ws: Bun.ServerWebSocket<Pump>) => {
    while (ws.data.left > 0) {
      const status = ws.send(ws.data.payload);
      if (status === 0) return;
      ws.data.left--;
      if (status === -1) return;
    }
  };
  const server = Bun.serve<Pump>({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request, srv) {
      if (srv.upgrade(request, { data: { left: 0, payload: new Uint8Array(0) } })) return undefined;
      await request.arrayBuffer();
      return Response.json({});
    },
    websocket: {
      backpressureLimit: 4 * 1024 * 1024,
      message(ws, message) {
        const { count, size } = JSON.parse(String(message)) as { count: number; size: number };
        ws.data = { left: count, payload: new Uint8Array(size).fill(7) };
        pump(ws);
      },
      drain: pump,
    },
  });
  console.log(`PORT ${server.port}`);
  await exitWithParent(async () => {
    await server.stop(true);
  });
}
