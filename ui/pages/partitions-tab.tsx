// Per partition: offsets, high watermark, size, segments (base offsets and sizes), and the replica
// set when the node is clustered; the topic's throughput chart above.
import { useState } from "preact/hooks";
import type { TopicDescription } from "../api.ts";
import { TrafficCharts } from "../components/traffic-charts.tsx";
import { formatBytes, formatCount, formatTime } from "../format.ts";

export function PartitionsTab({ topic }: { topic: TopicDescription }) {
  const [open, setOpen] = useState<number | undefined>(undefined);
  const partitions = topic.partitions;
  // The describe answer carries `replication` per partition in cluster mode only.
  const clustered = partitions.some((p) => p.replication !== undefined);
  return (
    <>
      <TrafficCharts topic={topic.name} />
      <div class="table-wrap">
        <table class="table">
          <thead>
            <tr>
              <th>Partition</th>
              <th class="num">Log start</th>
              <th class="num">Log end</th>
              <th class="num">High watermark</th>
              <th class="num">Records</th>
              <th class="num">Size</th>
              <th class="num">Segments</th>
              {clustered ? (
                <>
                  <th>Leader (epoch)</th>
                  <th>Replicas</th>
                  <th>ISR</th>
                </>
              ) : null}
            </tr>
          </thead>
          <tbody>
            {partitions.map((p) => (
              <>
                <tr key={p.partition}>
                  <td>{p.partition}</td>
                  <td class="num">{formatCount(p.logStartOffset)}</td>
                  <td class="num">{formatCount(p.logEndOffset)}</td>
                  <td class="num">{formatCount(p.highWatermark)}</td>
                  <td class="num">{formatCount(p.logEndOffset - p.logStartOffset)}</td>
                  <td class="num">{formatBytes(p.sizeBytes)}</td>
                  <td class="num">
                    <button
                      type="button"
                      class="link-button"
                      aria-expanded={open === p.partition}
                      onClick={() => setOpen(open === p.partition ? undefined : p.partition)}
                    >
                      {p.segmentCount} {open === p.partition ? "▾" : "▸"}
                    </button>
                  </td>
                  {clustered ? (
                    <>
                      <td>
                        {p.replication?.leader ?? "none"}{" "}
                        <span class="muted">({p.replication?.leaderEpoch})</span>
                      </td>
                      <td>
                        {p.replication?.replicas.join(", ")}
                        <Moving replication={p.replication} />
                      </td>
                      <td class={underReplicated(p) ? "under-replicated" : undefined}>
                        {p.replication?.isr.join(", ")}
                      </td>
                    </>
                  ) : null}
                </tr>
                {open === p.partition ? (
                  <tr class="subrow" key={`${p.partition}-segments`}>
                    <td colSpan={clustered ? 10 : 7}>
                      <table class="table inner">
                        <thead>
                          <tr>
                            <th class="num">Base offset</th>
                            <th class="num">Next offset</th>
                            <th class="num">Size</th>
                            <th>Newest record</th>
                          </tr>
                        </thead>
                        <tbody>
                          {p.segments.map((s) => (
                            <tr key={s.baseOffset}>
                              <td class="num">{formatCount(s.baseOffset)}</td>
                              <td class="num">{formatCount(s.nextOffset)}</td>
                              <td class="num">{formatBytes(s.sizeBytes)}</td>
                              <td>{formatTime(s.maxTimestamp)}</td>
                            </tr>
                          ))}
                        </tbody>
                      </table>
                    </td>
                  </tr>
                ) : null}
              </>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

type Replication = NonNullable<TopicDescription["partitions"][number]["replication"]>;

/** A reassignment under way: which replicas join and which leave once they caught up. */
function Moving({ replication }: { replication: Replication | undefined }) {
  if (replication === undefined) return null;
  const { addingReplicas, removingReplicas } = replication;
  if (addingReplicas.length === 0 && removingReplicas.length === 0) return null;
  const parts = [...addingReplicas.map((id) => `+${id}`), ...removingReplicas.map((id) => `\u2212${id}`)];
  return <span class="muted moving"> (moving: {parts.join(" ")})</span>;
}

/**
 * The ISR is short of the replicas (replicas being added by a reassignment do not count until they
 * join, as in Kafka): shown in the warning colour.
 */
function underReplicated(p: TopicDescription["partitions"][number]): boolean {
  const r = p.replication;
  return r !== undefined && r.isr.length < r.replicas.length - r.addingReplicas.length;
}
