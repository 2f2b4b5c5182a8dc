// Follows a topic's new records as they arrive. Incoming records (paced by tail-stream.ts) go to a
// buffer of the newest TAIL_ROWS, drawn on an animation frame at most every REDRAW_INTERVAL_MS, so the
// page stays responsive however fast the topic runs.
import { useEffect, useRef, useState } from "preact/hooks";
import type { JsonRecord, TopicDescription } from "../api.ts";
import { EmptyState } from "../components/empty-state.tsx";
import { ErrorBox } from "../components/error-box.tsx";
import { formatCount, formatRate, formatTime } from "../format.ts";
import { api } from "../session.ts";
import { type TailStats, TailStream } from "../tail-stream.ts";

/** Rows on screen: enough to read, few enough to redraw every frame. */
const TAIL_ROWS = 100;
const VALUE_CHARS_MAX = 300;
/** The list is redrawn at most this often: text moving faster cannot be read, and each redraw costs layout. */
const REDRAW_INTERVAL_MS = 100;

export function LiveTail({ topic }: { topic: TopicDescription }) {
  const [partition, setPartition] = useState<"all" | number>("all");
  const [paused, setPaused] = useState(false);
  const [rows, setRows] = useState<JsonRecord[]>([]);
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const [stats, setStats] = useState<TailStats & { perSecond: number }>({
    received: 0,
    skipped: 0,
    behind: 0,
    perSecond: 0,
  });
  const stream = useRef<TailStream | null>(null);
  // Read by the draw loop: paused, the view stays still and no credit goes back.
  const pausedRef = useRef(paused);
  pausedRef.current = paused;
  const partitionCount = topic.partitions.length;

  useEffect(() => {
    const buffer: JsonRecord[] = [];
    let dirty = false;
    setRows([]);
    setError(undefined);
    const partitions =
      partition === "all" ? Array.from({ length: partitionCount }, (_, p) => p) : [partition];
    const tail = new TailStream({
      token: api.token,
      topic: topic.name,
      partitions,
      onRecords: (records) => {
        // Only the newest TAIL_ROWS can be shown: keep no more than that.
        const from = Math.max(0, records.length - TAIL_ROWS);
        for (let i = from; i < records.length; i++) buffer.push(records[i]!);
        if (buffer.length > TAIL_ROWS) buffer.splice(0, buffer.length - TAIL_ROWS);
        dirty = true;
      },
      onError: setError,
      onOpenChange: setOpen,
    });
    stream.current = tail;
    let frame = 0;
    let drawnMs = 0;
    const draw = (nowMs: number) => {
      if (pausedRef.current) {
        frame = requestAnimationFrame(draw);
        return;
      }
      if (dirty && nowMs - drawnMs >= REDRAW_INTERVAL_MS) {
        dirty = false;
        drawnMs = nowMs;
        setRows(buffer.slice().reverse());
      }
      frame = requestAnimationFrame(draw);
    };
    frame = requestAnimationFrame(draw);
    let lastReceived = 0;
    let lastMs = performance.now();
    const ticker = setInterval(() => {
      const nowMs = performance.now();
      const perSecond = ((tail.stats.received - lastReceived) * 1000) / (nowMs - lastMs);
      lastReceived = tail.stats.received;
      lastMs = nowMs;
      setStats({ ...tail.stats, perSecond });
    }, 1000);
    return () => {
      cancelAnimationFrame(frame);
      clearInterval(ticker);
      tail.close();
      stream.current = null;
    };
  }, [topic.name, partition, partitionCount]);

  useEffect(() => stream.current?.setPaused(paused), [paused]);
  // The topic is described again every few seconds: how far behind the tail is, and whether to skip.
  useEffect(() => stream.current?.checkBehind(topic.partitions), [topic]);

  return (
    <div class="tail">
      <div class="card toolbar">
        <label class="field small">
          <span>Partition</span>
          <select
            name="tailPartition"
            value={String(partition)}
            onChange={(e) =>
              setPartition(e.currentTarget.value === "all" ? "all" : Number(e.currentTarget.value))
            }
          >
            <option value="all">all</option>
            {topic.partitions.map((p) => (
              <option key={p.partition} value={p.partition}>
                {p.partition}
              </option>
            ))}
          </select>
        </label>
        <button type="button" class="button" onClick={() => setPaused(!paused)}>
          {paused ? "Resume" : "Pause"}
        </button>
        <div class="tail-stats" data-testid="tail-stats">
          <span class={open ? (paused ? "dot paused" : "dot live") : "dot"} />
          {open ? (paused ? "paused" : "following") : "connecting"} · {formatRate(stats.perSecond)} ·{" "}
          {formatCount(stats.received)} received
          {stats.behind > 0 ? ` · ${formatCount(stats.behind)} behind` : ""}
          {stats.skipped > 0 ? ` · ${formatCount(stats.skipped)} skipped to keep up` : ""}
        </div>
      </div>
      {error ? <ErrorBox error={new Error(error)} title="The tail stopped" /> : null}
      {rows.length === 0 ? (
        <EmptyState title={paused ? "Paused" : "Waiting for new records…"}>
          The tail shows records produced from now on. Produce one from the Produce tab or with the API.
        </EmptyState>
      ) : (
        <div class="tail-list" data-testid="tail-rows">
          {rows.map((r, i) => (
            // Keyed by place, not by record: a redraw rewrites the rows' text instead of moving nodes.
            <div class="tail-row" key={i}>
              <span class="pill">p{r.partition}</span>
              <span class="record-offset">#{r.offset}</span>
              <time>{formatTime(r.timestamp).slice(11)}</time>
              <span class="tail-key">{r.key === null ? "" : String(r.key)}</span>
              <span class="tail-value">{preview(r.value)}</span>
            </div>
          ))}
        </div>
      )}
    </div>
  );
}

function preview(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > VALUE_CHARS_MAX ? `${text.slice(0, VALUE_CHARS_MAX)}…` : text;
}
