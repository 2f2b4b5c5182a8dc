// The node at a glance: version, uptime, disk, counts, rates now and charts of the last minutes.
import { ClusterNodes } from "../components/cluster-nodes.tsx";
import { ErrorBox } from "../components/error-box.tsx";
import { Loading } from "../components/loading.tsx";
import { StatCard } from "../components/stat-card.tsx";
import { TrafficCharts } from "../components/traffic-charts.tsx";
import {
  formatByteRate,
  formatBytes,
  formatCount,
  formatDuration,
  formatRate,
  formatTime,
} from "../format.ts";
import { href } from "../router.ts";
import { api } from "../session.ts";
import { usePoll } from "../use-poll.ts";

const NODE_REFRESH_MS = 2000;

export function OverviewPage() {
  const node = usePoll(api.node, NODE_REFRESH_MS);
  const n = node.data;
  const cluster = usePoll(api.cluster, NODE_REFRESH_MS);
  return (
    <section class="page">
      <header class="page-header">
        <h1>Overview</h1>
        {n ? <span class="muted">Sluice {n.version}</span> : null}
      </header>
      <ErrorBox error={node.error} title="Cannot load the node" />
      {n === undefined ? (
        node.error ? null : (
          <Loading what="the node" />
        )
      ) : (
        <>
          <div class="stat-grid">
            <StatCard
              label="Uptime"
              value={formatDuration(n.uptimeMs)}
              detail={`since ${formatTime(n.startedMs).slice(0, 19)}`}
            />
            <StatCard label="Data directory" value={formatBytes(n.dataDirBytes)} detail={n.dataDir} />
            <StatCard
              label="Free disk"
              value={formatBytes(n.diskFreeBytes)}
              detail={`of ${formatBytes(n.diskTotalBytes)} (${Math.round((100 * n.diskFreeBytes) / Math.max(n.diskTotalBytes, 1))}% free)`}
            />
            <StatCard
              label="Topics"
              value={formatCount(n.topics)}
              detail={`${formatCount(n.partitions)} partitions`}
            />
            <StatCard
              label="In"
              value={formatRate(n.rates.recordsInPerS)}
              detail={formatByteRate(n.rates.bytesInPerS)}
            />
            <StatCard
              label="Out"
              value={formatRate(n.rates.recordsOutPerS)}
              detail={formatByteRate(n.rates.bytesOutPerS)}
            />
          </div>
          {cluster.data ? <ClusterNodes cluster={cluster.data} /> : null}
          <TrafficCharts />
          {n.topics === 0 ? (
            <p class="hint">
              No topics yet. <a href={href("topics")}>Create one</a> to start.
            </p>
          ) : null}
        </>
      )}
    </section>
  );
}
