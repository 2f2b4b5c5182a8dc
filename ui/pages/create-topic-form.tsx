// The form that creates a topic: name, partitions and the config keys people change most, plus any
// other key as `key=value` lines. Obvious mistakes are caught here; the server checks the rest and
// its message is shown next to the field it names.
import { useState } from "preact/hooks";
import { PARTITIONS_PER_TOPIC_MAX, TOPIC_NAME_LENGTH_MAX } from "../../lib/limits.ts";
import { ApiError } from "../api.ts";
import { ErrorBox } from "../components/error-box.tsx";
import { api } from "../session.ts";

const NAME_PATTERN = /^[a-zA-Z0-9._-]+$/;

interface FormErrors {
  name?: string;
  partitions?: string;
  config?: string;
}

export function CreateTopicForm({ onCreated }: { onCreated: (name: string) => void }) {
  const [name, setName] = useState("");
  const [partitions, setPartitions] = useState("1");
  const [retentionHours, setRetentionHours] = useState("");
  const [cleanupPolicy, setCleanupPolicy] = useState("delete");
  const [extra, setExtra] = useState("");
  const [errors, setErrors] = useState<FormErrors>({});
  const [serverError, setServerError] = useState<ApiError | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const found = validate(name, partitions, extra);
    setErrors(found.errors);
    setServerError(undefined);
    if (found.config === undefined) return;
    const config: Record<string, unknown> = { ...found.config };
    if (retentionHours.trim() !== "") config["retention.ms"] = Math.round(Number(retentionHours) * 3_600_000);
    if (cleanupPolicy !== "delete") config["cleanup.policy"] = cleanupPolicy;
    setBusy(true);
    try {
      await api.createTopic(name.trim(), Number(partitions), config);
      onCreated(name.trim());
    } catch (caught) {
      const error = caught as ApiError;
      // The server names the field it refused: put its message there.
      if (error instanceof ApiError && error.field === "name") setErrors({ name: error.message });
      else if (error instanceof ApiError && error.field === "partitions")
        setErrors({ partitions: error.message });
      else setServerError(error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card form" onSubmit={submit} noValidate aria-label="Create a topic">
      <h2>Create a topic</h2>
      <div class="form-grid">
        <label class="field">
          <span>Name</span>
          <input
            name="name"
            value={name}
            placeholder="orders"
            onInput={(e) => setName(e.currentTarget.value)}
          />
          {errors.name ? <small class="field-error">{errors.name}</small> : null}
        </label>
        <label class="field">
          <span>Partitions</span>
          <input
            name="partitions"
            type="number"
            min={1}
            max={PARTITIONS_PER_TOPIC_MAX}
            value={partitions}
            onInput={(e) => setPartitions(e.currentTarget.value)}
          />
          {errors.partitions ? <small class="field-error">{errors.partitions}</small> : null}
        </label>
        <label class="field">
          <span>Retention (hours)</span>
          <input
            name="retentionHours"
            type="number"
            min={0}
            placeholder="168 (default)"
            value={retentionHours}
            onInput={(e) => setRetentionHours(e.currentTarget.value)}
          />
        </label>
        <label class="field">
          <span>Cleanup policy</span>
          <select
            name="cleanupPolicy"
            value={cleanupPolicy}
            onChange={(e) => setCleanupPolicy(e.currentTarget.value)}
          >
            <option value="delete">delete</option>
            <option value="compact">compact</option>
            <option value="compact,delete">compact,delete</option>
          </select>
        </label>
      </div>
      <label class="field">
        <span>
          Other config, one <code>key=value</code> a line
        </span>
        <textarea
          name="config"
          rows={2}
          placeholder="segment.bytes=104857600"
          value={extra}
          onInput={(e) => setExtra(e.currentTarget.value)}
        />
        {errors.config ? <small class="field-error">{errors.config}</small> : null}
      </label>
      <ErrorBox error={serverError} title="The topic was not created" />
      <div class="form-actions">
        <button class="button primary" type="submit" disabled={busy}>
          {busy ? "Creating…" : "Create topic"}
        </button>
      </div>
    </form>
  );
}

function validate(name: string, partitions: string, extra: string) {
  const errors: FormErrors = {};
  const trimmed = name.trim();
  if (trimmed === "") errors.name = "A topic needs a name.";
  else if (trimmed.length > TOPIC_NAME_LENGTH_MAX)
    errors.name = `At most ${TOPIC_NAME_LENGTH_MAX} characters.`;
  else if (!NAME_PATTERN.test(trimmed) || trimmed === "." || trimmed === "..")
    errors.name = "Letters, digits, '.', '_' and '-' only.";
  const count = Number(partitions);
  if (!Number.isInteger(count) || count < 1 || count > PARTITIONS_PER_TOPIC_MAX)
    errors.partitions = `A whole number from 1 to ${PARTITIONS_PER_TOPIC_MAX}.`;
  const config: Record<string, string> = {};
  for (const line of extra.split("\n")) {
    if (line.trim() === "") continue;
    const at = line.indexOf("=");
    if (at <= 0) {
      errors.config = `"${line.trim()}" is not key=value.`;
      break;
    }
    config[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return { errors, config: Object.keys(errors).length === 0 ? config : undefined };
}
