// One record as the browser and the live tail show it: offset, partition, time, key, headers, value.
import type { JsonRecord } from "../api.ts";
import { formatTime, renderPayload, type ValueView } from "../format.ts";

export function RecordRow({ record, view }: { record: JsonRecord; view: ValueView }) {
  return (
    <article class="record">
      <header class="record-meta">
        <span class="record-offset">#{record.offset}</span>
        <span class="pill">p{record.partition}</span>
        <time>{formatTime(record.timestamp)}</time>
        {record.key !== null ? (
          <span class="record-key" title="key">
            <span class="muted">key</span>{" "}
            {renderPayload(record.key, record.keyFormat, view === "hex" ? "text" : view)}
          </span>
        ) : null}
        {record.headers.map((h) => (
          <span key={h.key} class="pill header-pill">
            {h.key}={h.value ?? "null"}
          </span>
        ))}
      </header>
      <pre class="record-value">{renderPayload(record.value, record.valueFormat, view)}</pre>
    </article>
  );
}
