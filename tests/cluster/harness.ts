// Real clusters for tests, the soak script and the benchmark: one etcd (the Debian etcd 3.4 binary)
// and Sluice processes (`bun main.ts`) on loopback ports with temp data dirs, stopped by PID.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
const BUN = process.execPath;
export const ETCD_BINARY = process.env.SLUICE_TEST_ETCD ?? "/usr/bin/etcd";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await Bun.sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export class Etcd {
  process: ReturnType<typeof Bun.spawn> | undefined;
  readonly url: string;
  private constructor(
    readonly dir: string,
    readonly clientPort: number,
    readonly peerPort: number,
  ) {
    this.url = `http://127.0.0.1:${clientPort}`;
  }

  static async start(): Promise<Etcd> {
    const etcd = new Etcd(mkdtempSync(join(tmpdir(), "sluice-etcd-")), await freePort(), await freePort());
    await etcd.restart();
    return etcd;
  }

  async restart(): Promise<void> {
    const peer = `http://127.0.0.1:${this.peerPort}`;
    this.process = Bun.spawn(
      [
        ETCD_BINARY,
        "--data-dir",
        join(this.dir, "data"),
        "--listen-client-urls",
        this.url,
        "--advertise-client-urls",
        this.url,
        "--listen-peer-urls",
        peer,
        "--initial-advertise-peer-urls",
        peer,
        "--initial-cluster",
        `default=${peer}`,
      ],
      { stdout: "ignore", stderr: "ignore" },
    );
    await waitUntil(
      "etcd",
      async () =>
        ((await (await fetch(`${this.url}/health`)).json()) as { health: string }).health === "true",
      15_000,
    );
  }

  async kill(): Promise<void> {
    this.process?.kill("SIGKILL");
    await this.process?.exited;
    this.process = undefined;
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface NodeOptions {
  sessionTimeoutMs?: number;
  replicaLagTimeMaxMs?: number;
  extraArgs?: string[];
  /** Access control on, with this shared authAdminToken (given by environment, as the README says). */
  adminToken?: string;
  /** Where the node's stderr goes: "inherit" to watch it, else a file under its data dir. */
  stderr?: "inherit" | "file";
}

export class SluiceNode {
  process: ReturnType<typeof Bun.spawn> | undefined;
  readonly url: string;

  constructor(
    readonly id: number,
    readonly port: number,
    readonly dataDir: string,
    readonly etcd: Etcd,
    readonly prefix: string,
    readonly options: NodeOptions,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  get api(): string {
    return `${this.url}/api/v1`;
  }

  /** What a test's admin request carries: the admin token when access control is on. */
  get headers(): Record<string, string> {
    const token = this.options.adminToken;
    return token === undefined ? {} : { authorization: `Bearer ${token}` };
  }

  /** Starts (or restarts) the process and waits until it serves. */
  async start(): Promise<void> {
    const args = [
      BUN,
      join(ROOT, "main.ts"),
      "--host",
      "127.0.0.1",
      "--port",
      String(this.port),
      "--data-dir",
      this.dataDir,
      "--node-id",
      String(this.id),
      "--advertised-url",
      this.url,
      "--etcd-endpoints",
      this.etcd.url,
      "--etcd-prefix",
      this.prefix,
      "--cluster-session-timeout-ms",
      String(this.options.sessionTimeoutMs ?? 2000),
      "--replica-lag-time-max-ms",
      String(this.options.replicaLagTimeMaxMs ?? 30_000),
      ...(this.options.extraArgs ?? []),
    ];
    const stderr =
      this.options.stderr === "inherit"
        ? "inherit"
        : Bun.file(join(this.dataDir, "..", `node-${this.id}.log`));
    const token = this.options.adminToken;
    const env =
      token === undefined
        ? process.env
        : { ...process.env, SLUICE_AUTH_ENABLED: "true", SLUICE_AUTH_ADMIN_TOKEN: token };
    this.process = Bun.spawn(args, { stdout: "ignore", stderr, cwd: ROOT, env });
    await waitUntil(`node ${this.id}`, async () => (await fetch(`${this.url}/readyz`)).ok, 20_000);
  }

  signal(signal: "SIGKILL" | "SIGSTOP" | "SIGCONT" | "SIGTERM"): void {
    this.process?.kill(signal);
  }

  async kill(): Promise<void> {
    this.signal("SIGKILL");
    await this.process?.exited;
    this.process = undefined;
  }

  async stop(): Promise<void> {
    this.signal("SIGTERM");
    await this.process?.exited;
    this.process = undefined;
  }

  get running(): boolean {
    return this.process !== undefined;
  }
}

export class Cluster {
  private constructor(
    readonly root: string,
    readonly etcd: Etcd,
    readonly nodes: SluiceNode[],
  ) {}

  static async start(size: number, options: NodeOptions = {}): Promise<Cluster> {
    const root = mkdtempSync(join(tmpdir(), "sluice-cluster-"));
    const etcd = await Etcd.start();
    const prefix = `/sluice-test-${process.pid}-${Date.now()}`;
    const nodes: SluiceNode[] = [];
    for (let id = 1; id <= size; id++) {
      nodes.push(new SluiceNode(id, await freePort(), join(root, `node-${id}`), etcd, prefix, options));
    }
    await Promise.all(nodes.map((node) => node.start()));
    return new Cluster(root, etcd, nodes);
  }

  /** Starts one more node (the next id) in the same cluster, as an operator adds a box. */
  async addNode(): Promise<SluiceNode> {
    const first = this.nodes[0]!;
    const id = Math.max(...this.nodes.map((node) => node.id)) + 1;
    const dataDir = join(this.root, `node-${id}`);
    const node = new SluiceNode(id, await freePort(), dataDir, this.etcd, first.prefix, first.options);
    await node.start();
    this.nodes.push(node); // only now: load generators pick from the running nodes
    return node;
  }

  node(id: number): SluiceNode {
    return this.nodes.find((node) => node.id === id)!;
  }

  running(): SluiceNode[] {
    return this.nodes.filter((node) => node.running);
  }

  async stop(): Promise<void> {
    for (const node of this.nodes) {
      if (node.running) {
        node.signal("SIGCONT");
        await node.kill();
      }
    }
    await this.etcd.stop();
    if (process.env.SLUICE_TEST_KEEP) console.log(`cluster files kept in ${this.root}`);
    else rmSync(this.root, { recursive: true, force: true });
  }

  /** The partition's replication state as a running node describes it. */
  async partitionState(topic: string, partition: number, via?: SluiceNode) {
    const node = via ?? this.running()[0]!;
    const response = await fetch(`${node.api}/topics/${topic}`, { headers: node.headers });
    const body = (await response.json()) as {
      partitions: Array<{
        highWatermark: number;
        logEndOffset: number;
        replication?: {
          leader: number | null;
          leaderEpoch: number;
          replicas: number[];
          isr: number[];
          offsetsFrom: number;
        };
      }>;
    };
    return body.partitions[partition]!;
  }

  /** Waits until `check` holds of the partition state, as seen by `via`. */
  async waitForState(
    topic: string,
    partition: number,
    what: string,
    check: (state: Awaited<ReturnType<Cluster["partitionState"]>>) => boolean,
    timeoutMs = 15_000,
    via?: SluiceNode,
  ) {
    await waitUntil(what, async () => check(await this.partitionState(topic, partition, via)), timeoutMs);
    return this.partitionState(topic, partition, via);
  }
}

export { waitUntil };
