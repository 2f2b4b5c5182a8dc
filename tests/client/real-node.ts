// A whole node in this process, started as `sluice serve` starts one (startSluiceNode from a config
// the schema parsed): real clock, real files in a temp dir, a real server on a loopback port.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SluiceNode, startSluiceNode } from "../../lib/cli/sluice-node.ts";
import { type Config, configSchema } from "../../lib/config.ts";
import { createLogger } from "../../lib/logger.ts";

export interface RealNode {
  node: SluiceNode;
  /** http://127.0.0.1:<port> */
  url: string;
  dataDir: string;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startRealNode(config: Partial<Record<keyof Config, unknown>> = {}): Promise<RealNode> {
  const dataDir = mkdtempSync(join(tmpdir(), "sluice-node-"));
  const parsed = configSchema.parse({ dataDir, host: "127.0.0.1", port: 0, ...config });
  const node = await startSluiceNode(parsed, createLogger({ level: "error" }));
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await node.stop({ drainMs: 100 });
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { node, url: node.url, dataDir, close, [Symbol.asyncDispose]: close };
}
