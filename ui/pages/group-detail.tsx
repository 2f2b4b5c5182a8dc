// One consumer group: members and their partitions, committed offsets and lag per partition, a lag
// chart sampled from the describe answer while the page is open, and offset resets.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { GroupDescription } from "../api.ts";
import { Chart } from "../components/chart.tsx";
import { ConfirmDialog } from "../components/confirm-dialog.tsx";
import { EmptyState } from "../components/empty-state.tsx";
import { ErrorBox } from "../components/error-box.tsx";
import { Loading } from "../components/loading.tsx";
import { formatCount } from "../format.ts";
import { href, navigate } from "../router.ts";
import { api } from "../session.ts";
import { usePoll } from "../use-poll.ts";

const REFRESH_MS = 2000;
const LAG_SAMPLES_MAX = 300;
const LAG_COLORS = ["#d9480f", "#2f6fde", "#17a673", "#7048e8", "#e8590c", "#0c8599"];

export function GroupDetailPage({ name }: { name: string }) {
  const group = usePoll(() => api.group(name), REFRESH_MS, [name]);
  const lagHistory = useLagHistory(group.data);
  const [resetting, setResetting] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const g = group.data;
  return (
    <section class="page">
      <header class="page-header">
        <h1>
          <a class="crumb" href={href("groups")}>
            Groups
          </a>{" "}
          / {name}
        </h1>
        {g ? (
          <div class="header-actions">
            <button
              type="button"
              class="button"
              onClick={() => setResetting(true)}
              disabled={g.partitions.length === 0}
            >
              Reset offsets…
            </button>
            <button
              type="button"
              class="button danger-outline"
              onClick={() => setDeleting(true)}
              disabled={g.members.length > 0}
              title={g.members.length > 0 ? "Only a group without members can be deleted" : ""}
            >
              Delete group
            </button>
          </div>
        ) : null}
      </header>
      <ErrorBox error={group.error} title="Cannot load the group" />
      {g === undefined ? (
        group.error ? null : (
          <Loading what={name} />
        )
      ) : (
        <>
          <div class="stat-line">
            <span class={`pill state-${g.state}`}>{g.state}</span>
            <span>generation {g.generationId}</span>
            <span>{g.assignor ?? "no assignor yet"}</span>
            <span data-testid="total-lag">
              total lag <strong>{formatCount(g.partitions.reduce((sum, p) => sum + (p.lag ?? 0), 0))}</strong>
            </span>
          </div>
          <Chart
            title="Lag (records behind the log end)"
            series={lagHistory.series}
            data={lagHistory.data}
            formatY={formatCount}
          />
          <h2>Partitions</h2>
          {g.partitions.length === 0 ? (
            <EmptyState title="Nothing committed or assigned yet" />
          ) : (
            <div class="table-wrap">
              <table class="table" data-testid="group-partitions">
                <thead>
                  <tr>
                    <th>Topic</th>
                    <th class="num">Partition</th>
                    <th>Member</th>
                    <th class="num">Committed</th>
                    <th class="num">Log end</th>
                    <th class="num">Lag</th>
                  </tr>
                </thead>
                <tbody>
                  {g.partitions.map((p) => (
                    <tr key={`${p.topic}-${p.partition}`}>
                      <td>
                        <a href={href("topics", p.topic)}>{p.topic}</a>
                      </td>
                      <td class="num">{p.partition}</td>
                      <td class="ellipsis">{p.memberId ?? "—"}</td>
                      <td class="num">{p.committedOffset === null ? "—" : formatCount(p.committedOffset)}</td>
                      <td class="num">{p.logEndOffset === null ? "gone" : formatCount(p.logEndOffset)}</td>
                      <td class="num lag">{p.lag === null ? "—" : formatCount(p.lag)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <h2>Members</h2>
          {g.members.length === 0 ? (
            <EmptyState title="No members">
              Offsets can be reset or the group deleted while it has none.
            </EmptyState>
          ) : (
            <div class="table-wrap">
              <table class="table">
                <thead>
                  <tr>
                    <th>Member</th>
                    <th>Client</th>
                    <th>Assignment</th>
                  </tr>
                </thead>
                <tbody>
                  {g.members.map((m) => (
                    <tr key={m.memberId}>
                      <td class="ellipsis">{m.memberId}</td>
                      <td>{m.clientId}</td>
                      <td>
                        {m.assignment.map((a) => `${a.topic}[${a.partitions.join(",")}]`).join(" ") || "—"}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {resetting ? (
            <ResetDialog group={g} onClose={() => setResetting(false)} onDone={() => void group.reload()} />
          ) : null}
          {deleting ? (
            <ConfirmDialog
              title={`Delete group ${name}?`}
              confirmLabel="Delete group"
              onConfirm={async () => {
                await api.deleteGroup(name);
                navigate(href("groups"));
              }}
              onClose={() => setDeleting(false)}
            >
              <p>
                Its committed offsets are removed; a consumer joining it later starts from its own reset
                policy.
              </p>
            </ConfirmDialog>
          ) : null}
        </>
      )}
    </section>
  );
}

function ResetDialog({
  group,
  onClose,
  onDone,
}: {
  group: GroupDescription;
  onClose: () => void;
  onDone: () => void;
}) {
  const topics = [...new Set(group.partitions.map((p) => p.topic))];
  const [topic, setTopic] = useState(topics[0] ?? "");
  const [to, setTo] = useState<"earliest" | "latest" | "timestamp">("earliest");
  const [time, setTime] = useState("");
  return (
    <ConfirmDialog
      title="Reset offsets"
      confirmLabel="Reset offsets"
      onConfirm={async () => {
        const body =
          to === "timestamp" ? { to, topic, timestamp: new Date(time).getTime() || 0 } : { to, topic };
        await api.resetGroup(group.group, body);
        onDone();
      }}
      onClose={onClose}
    >
      <p>
        Moves the committed offsets of <strong>{group.group}</strong> on every partition of the topic. Only
        possible while the group has no members.
      </p>
      <div class="form-grid">
        <label class="field">
          <span>Topic</span>
          <select name="resetTopic" value={topic} onChange={(e) => setTopic(e.currentTarget.value)}>
            {topics.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>To</span>
          <select name="resetTo" value={to} onChange={(e) => setTo(e.currentTarget.value as typeof to)}>
            <option value="earliest">the earliest offset</option>
            <option value="latest">the latest offset (skip everything)</option>
            <option value="timestamp">a time</option>
          </select>
        </label>
        {to === "timestamp" ? (
          <label class="field">
            <span>Time</span>
            <input
              name="resetTime"
              type="datetime-local"
              step={1}
              value={time}
              onInput={(e) => setTime(e.currentTarget.value)}
            />
          </label>
        ) : null}
      </div>
    </ConfirmDialog>
  );
}

/** Total lag and lag per topic, one point per describe answer, kept while the page is open. */
function useLagHistory(group: GroupDescription | undefined) {
  const history = useRef<Array<{ timeS: number; lags: Map<string, number> }>>([]);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    if (group === undefined) return;
    const lags = new Map<string, number>();
    for (const p of group.partitions) lags.set(p.topic, (lags.get(p.topic) ?? 0) + (p.lag ?? 0));
    history.current = [...history.current.slice(-(LAG_SAMPLES_MAX - 1)), { timeS: Date.now() / 1000, lags }];
    setVersion((v) => v + 1);
  }, [group]);
  const topics = [...new Set(history.current.flatMap((h) => [...h.lags.keys()]))].sort();
  return useMemo(
    () => ({
      series: topics.map((topic, i) => ({ label: topic, color: LAG_COLORS[i % LAG_COLORS.length]! })),
      data: [
        history.current.map((h) => h.timeS),
        ...topics.map((t) => history.current.map((h) => h.lags.get(t) ?? 0)),
      ],
    }),
    [version],
  );
}
