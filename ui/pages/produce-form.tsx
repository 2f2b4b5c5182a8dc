// Sends one record to the topic and says where it went.
import { useState } from "preact/hooks";
import type { ApiError, ProduceAnswer, TopicDescription } from "../api.ts";
import { ErrorBox } from "../components/error-box.tsx";
import { api } from "../session.ts";

export function ProduceForm({ topic, onProduced }: { topic: TopicDescription; onProduced: () => void }) {
  const [key, setKey] = useState("");
  const [value, setValue] = useState("");
  const [format, setFormat] = useState<"json" | "text">("json");
  const [headers, setHeaders] = useState("");
  const [partition, setPartition] = useState("auto");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | Error | undefined>(undefined);
  const [sent, setSent] = useState<ProduceAnswer["offsets"][number] | undefined>(undefined);

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setSent(undefined);
    let parsed: unknown = value;
    if (format === "json") {
      try {
        parsed = JSON.parse(value);
      } catch (caught) {
        setError(
          new Error(`The value is not JSON (${(caught as Error).message}); choose "text" to send it as is.`),
        );
        return;
      }
    }
    const headerMap: Record<string, string> = {};
    for (const line of headers.split("\n")) {
      if (line.trim() === "") continue;
      const at = line.indexOf("=");
      if (at <= 0) {
        setError(new Error(`Header "${line.trim()}" is not key=value.`));
        return;
      }
      headerMap[line.slice(0, at).trim()] = line.slice(at + 1).trim();
    }
    setBusy(true);
    try {
      const answer = await api.produce(
        topic.name,
        [
          {
            key: key === "" ? null : key,
            value: parsed,
            headers: headerMap,
            ...(partition === "auto" ? {} : { partition: Number(partition) }),
          },
        ],
        format,
      );
      setSent(answer.offsets[0]);
      onProduced();
    } catch (caught) {
      setError(caught as ApiError);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card form" onSubmit={submit} aria-label="Produce a record">
      <div class="form-grid">
        <label class="field">
          <span>Key (optional)</span>
          <input name="key" value={key} placeholder="user-1" onInput={(e) => setKey(e.currentTarget.value)} />
        </label>
        <label class="field small">
          <span>Partition</span>
          <select name="partition" value={partition} onChange={(e) => setPartition(e.currentTarget.value)}>
            <option value="auto">by key</option>
            {topic.partitions.map((p) => (
              <option key={p.partition} value={p.partition}>
                {p.partition}
              </option>
            ))}
          </select>
        </label>
        <label class="field small">
          <span>Value is</span>
          <select
            name="format"
            value={format}
            onChange={(e) => setFormat(e.currentTarget.value as "json" | "text")}
          >
            <option value="json">JSON</option>
            <option value="text">text</option>
          </select>
        </label>
      </div>
      <label class="field">
        <span>Value</span>
        <textarea
          name="value"
          rows={5}
          class="mono"
          placeholder={format === "json" ? '{"total": 42}' : "hello"}
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
        />
      </label>
      <label class="field">
        <span>
          Headers, one <code>key=value</code> a line
        </span>
        <textarea
          name="headers"
          rows={2}
          value={headers}
          onInput={(e) => setHeaders(e.currentTarget.value)}
        />
      </label>
      <ErrorBox error={error} title="Not sent" />
      <div class="form-actions">
        {sent ? (
          <span class="ok" data-testid="produced">
            Sent to partition {sent.partition} at offset {sent.offset}.
          </span>
        ) : null}
        <button class="button primary" type="submit" disabled={busy}>
          {busy ? "Sending…" : "Send record"}
        </button>
      </div>
    </form>
  );
}
