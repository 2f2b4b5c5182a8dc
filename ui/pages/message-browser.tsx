// Reads a partition a page at a time from the start, the end, an offset or a time; filters by key or
// by text in the value; pages forward and back. Reads are plain HTTP fetches that do not wait.
import { useState } from "preact/hooks";
import type { ApiError, JsonRecord, TopicDescription } from "../api.ts";
import { EmptyState } from "../components/empty-state.tsx";
import { ErrorBox } from "../components/error-box.tsx";
import { RecordRow } from "../components/record-row.tsx";
import type { ValueView } from "../format.ts";
import { api } from "../session.ts";

const PAGE_RECORDS = 50;
/** A filter that matches little must not scan a whole log from the browser: at most this many per page. */
const SCAN_RECORDS_MAX = 20_000;
const FETCH_BYTES = 1024 * 1024;

type StartFrom = "earliest" | "latest" | "offset" | "timestamp";

interface Page {
  startOffset: number;
  nextOffset: number;
  records: JsonRecord[];
  scanned: number;
  highWatermark: number;
  logStartOffset: number;
}

export function MessageBrowser({ topic }: { topic: TopicDescription }) {
  const [partition, setPartition] = useState(0);
  const [from, setFrom] = useState<StartFrom>("latest");
  const [offsetInput, setOffsetInput] = useState("0");
  const [timeInput, setTimeInput] = useState("");
  const [keyFilter, setKeyFilter] = useState("");
  const [textFilter, setTextFilter] = useState("");
  const [view, setView] = useState<ValueView>("auto");
  const [page, setPage] = useState<Page | undefined>(undefined);
  const [history, setHistory] = useState<number[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
    } catch (caught) {
      setError(caught as ApiError);
    } finally {
      setBusy(false);
    }
  };

  const load = (startOffset: number) =>
    readPage(topic.name, partition, startOffset, { keyFilter, textFilter, view });

  const read = () =>
    run(async () => {
      let start: number;
      if (from === "earliest") start = await api.offsetAt(topic.name, partition, "earliest");
      else if (from === "latest") {
        const [earliest, latest] = await Promise.all([
          api.offsetAt(topic.name, partition, "earliest"),
          api.offsetAt(topic.name, partition, "latest"),
        ]);
        start = Math.max(earliest, latest - PAGE_RECORDS);
      } else if (from === "offset") start = Math.max(0, Math.floor(Number(offsetInput) || 0));
      else start = await api.offsetAt(topic.name, partition, new Date(timeInput).getTime() || 0);
      setHistory([]);
      setPage(await load(start));
    });

  const newer = () =>
    run(async () => {
      if (page === undefined) return;
      setHistory([...history, page.startOffset]);
      setPage(await load(page.nextOffset));
    });

  const older = () =>
    run(async () => {
      if (page === undefined) return;
      const previous = history.at(-1);
      setHistory(history.slice(0, -1));
      setPage(await load(previous ?? Math.max(page.logStartOffset, page.startOffset - PAGE_RECORDS)));
    });

  return (
    <div class="browser">
      <form
        class="card form toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          void read();
        }}
      >
        <label class="field small">
          <span>Partition</span>
          <select
            name="partition"
            value={partition}
            onChange={(e) => setPartition(Number(e.currentTarget.value))}
          >
            {topic.partitions.map((p) => (
              <option key={p.partition} value={p.partition}>
                {p.partition}
              </option>
            ))}
          </select>
        </label>
        <label class="field small">
          <span>From</span>
          <select name="from" value={from} onChange={(e) => setFrom(e.currentTarget.value as StartFrom)}>
            <option value="latest">the end</option>
            <option value="earliest">the start</option>
            <option value="offset">an offset</option>
            <option value="timestamp">a time</option>
          </select>
        </label>
        {from === "offset" ? (
          <label class="field small">
            <span>Offset</span>
            <input
              name="offset"
              type="number"
              min={0}
              value={offsetInput}
              onInput={(e) => setOffsetInput(e.currentTarget.value)}
            />
          </label>
        ) : null}
        {from === "timestamp" ? (
          <label class="field">
            <span>Time</span>
            <input
              name="time"
              type="datetime-local"
              step={1}
              value={timeInput}
              onInput={(e) => setTimeInput(e.currentTarget.value)}
            />
          </label>
        ) : null}
        <label class="field">
          <span>Key is</span>
          <input
            name="keyFilter"
            value={keyFilter}
            placeholder="any"
            onInput={(e) => setKeyFilter(e.currentTarget.value)}
          />
        </label>
        <label class="field">
          <span>Value contains</span>
          <input
            name="textFilter"
            value={textFilter}
            placeholder="any"
            onInput={(e) => setTextFilter(e.currentTarget.value)}
          />
        </label>
        <label class="field small">
          <span>Show values as</span>
          <select name="view" value={view} onChange={(e) => setView(e.currentTarget.value as ValueView)}>
            <option value="auto">JSON / text</option>
            <option value="text">raw text</option>
            <option value="hex">hex</option>
          </select>
        </label>
        <button class="button primary" type="submit" disabled={busy}>
          {busy ? "Reading…" : "Read"}
        </button>
      </form>
      <ErrorBox error={error} title="Cannot read the partition" />
      {page === undefined ? (
        <EmptyState title="Pick where to read from">
          Choose a partition and a starting point, then press Read. Leave the filters empty to see every
          record.
        </EmptyState>
      ) : (
        <>
          <div class="pager">
            <button
              type="button"
              class="button"
              onClick={older}
              disabled={busy || page.startOffset <= page.logStartOffset}
            >
              ← Older
            </button>
            <span class="muted">
              offsets {page.startOffset}–{Math.max(page.startOffset, page.nextOffset - 1)} of{" "}
              {page.logStartOffset}–{Math.max(page.logStartOffset, page.highWatermark - 1)} ·{" "}
              {page.records.length} shown
              {page.scanned > page.records.length ? ` of ${page.scanned} read` : ""}
            </span>
            <button
              type="button"
              class="button"
              onClick={newer}
              disabled={busy || page.nextOffset >= page.highWatermark}
            >
              Newer →
            </button>
          </div>
          {page.records.length === 0 ? (
            <EmptyState title="No records here">
              {page.highWatermark === page.logStartOffset
                ? "This partition is empty: produce a record from the Produce tab."
                : "Nothing matched in this range; page on or widen the filters."}
            </EmptyState>
          ) : (
            <div class="record-list" data-testid="browser-records">
              {page.records.map((r) => (
                <RecordRow key={r.offset} record={r} view={view} />
              ))}
            </div>
          )}
        </>
      )}
    </div>
  );
}

async function readPage(
  topic: string,
  partition: number,
  startOffset: number,
  options: { keyFilter: string; textFilter: string; view: ValueView },
): Promise<Page> {
  const records: JsonRecord[] = [];
  let offset = startOffset;
  let scanned = 0;
  let highWatermark = startOffset;
  let logStartOffset = 0;
  while (records.length < PAGE_RECORDS && scanned < SCAN_RECORDS_MAX) {
    const answer = await api.fetchRecords(topic, partition, {
      offset,
      maxBytes: FETCH_BYTES,
      valueFormat: options.view === "hex" ? "base64" : "auto",
    });
    highWatermark = answer.highWatermark;
    logStartOffset = answer.logStartOffset;
    for (const record of answer.records) {
      if (records.length >= PAGE_RECORDS) break;
      scanned++;
      offset = record.offset + 1;
      if (matches(record, options)) records.push(record);
    }
    if (answer.records.length === 0 || offset >= highWatermark) {
      offset = Math.max(offset, answer.nextOffset);
      break;
    }
  }
  return { startOffset, nextOffset: offset, records, scanned, highWatermark, logStartOffset };
}

function matches(record: JsonRecord, options: { keyFilter: string; textFilter: string }): boolean {
  if (options.keyFilter !== "" && String(record.key ?? "") !== options.keyFilter) return false;
  if (options.textFilter === "") return true;
  const value = typeof record.value === "string" ? record.value : JSON.stringify(record.value);
  return value.includes(options.textFilter);
}
