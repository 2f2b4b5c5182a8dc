// The cluster on the overview (cluster mode only): controller, etcd, partition health counts and
// every node with its health and how many partitions it leads and holds. Renders nothing on a
// single node.
import type { ClusterAnswer } from "../api.ts";
import { formatCount } from "../format.ts";
import { StatCard } from "./stat-card.tsx";

export function ClusterNodes({ cluster }: { cluster: ClusterAnswer }) {
  if (!cluster.enabled) return null;
  const nodes = cluster.nodes ?? [];
  const partitions = cluster.partitions;
  const down = nodes.filter((node) => !node.live).length;
  return (
    <section class="cluster" aria-label="Cluster">
      <h2>Cluster</h2>
      <div class="stat-grid">
        <StatCard
          label="Nodes"
          value={`${formatCount(nodes.length - down)} / ${formatCount(nodes.length)} up`}
          detail={`this is node ${cluster.nodeId}`}
        />
        <StatCard
          label="Controller"
          value={
            cluster.controllerId === null || cluster.controllerId === undefined
              ? "none"
              : `node ${cluster.controllerId}`
          }
          detail={cluster.etcd?.reachable ? "etcd reachable" : "etcd unreachable"}
        />
        <StatCard
          label="Offline partitions"
          value={formatCount(partitions?.offline ?? 0)}
          detail={`of ${formatCount(partitions?.total ?? 0)}`}
        />
        <StatCard
          label="Under-replicated"
          value={formatCount(partitions?.underReplicated ?? 0)}
          detail="ISR short of the replicas"
        />
      </div>
      <div class="table-wrap">
        <table class="table" data-testid="cluster-nodes">
          <thead>
            <tr>
              <th>Node</th>
              <th>Health</th>
              <th>Address</th>
              <th class="num">Leads</th>
              <th class="num">Replicas</th>
            </tr>
          </thead>
          <tbody>
            {nodes.map((node) => (
              <tr key={node.id}>
                <td>
                  {node.id}
                  {node.id === cluster.controllerId ? (
                    <>
                      {" "}
                      <span class="pill">controller</span>
                    </>
                  ) : null}
                  {node.id === cluster.nodeId ? <span class="muted"> (this node)</span> : null}
                </td>
                <td>
                  <span class={`pill ${node.live ? "node-up" : "node-down"}`}>
                    {node.live ? "up" : "down"}
                  </span>
                </td>
                <td class="mono">{node.url ?? "—"}</td>
                <td class="num">{formatCount(node.leaders)}</td>
                <td class="num">{formatCount(node.replicas)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
