// A topic's config, editable: change values and save only what changed, or put a key back to its
// default.
import { useEffect, useState } from "preact/hooks";
import type { ApiError, TopicDescription } from "../api.ts";
import { ErrorBox } from "../components/error-box.tsx";
import { api } from "../session.ts";

export function TopicConfigTab({ topic, onChanged }: { topic: TopicDescription; onChanged: () => void }) {
  const current = topic.config as Record<string, unknown>;
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [saved, setSaved] = useState(false);
  useEffect(() => setDraft({}), [topic.name]);

  const save = async (changes: Record<string, unknown>) => {
    setBusy(true);
    setError(undefined);
    setSaved(false);
    try {
      await api.alterConfig(topic.name, changes);
      setDraft({});
      setSaved(true);
      onChanged();
    } catch (caught) {
      setError(caught as ApiError);
    } finally {
      setBusy(false);
    }
  };
  const changed = Object.keys(draft).filter((key) => draft[key] !== String(current[key]));
  return (
    <form
      class="card form"
      onSubmit={(e) => {
        e.preventDefault();
        void save(Object.fromEntries(changed.map((key) => [key, draft[key]])));
      }}
    >
      <div class="table-wrap">
        <table class="table config">
          <thead>
            <tr>
              <th>Key</th>
              <th>Value</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {Object.keys(current)
              .sort()
              .map((key) => (
                <tr key={key}>
                  <td>
                    <code>{key}</code>
                  </td>
                  <td>
                    <input
                      name={key}
                      class={changed.includes(key) ? "changed" : ""}
                      value={draft[key] ?? String(current[key])}
                      onInput={(e) => setDraft({ ...draft, [key]: e.currentTarget.value })}
                    />
                  </td>
                  <td>
                    <button
                      type="button"
                      class="link-button"
                      disabled={busy}
                      title="Put this key back to its default"
                      onClick={() => void save({ [key]: null })}
                    >
                      default
                    </button>
                  </td>
                </tr>
              ))}
          </tbody>
        </table>
      </div>
      <ErrorBox error={error} title="The config was not changed" />
      <div class="form-actions">
        {saved ? <span class="ok">Saved.</span> : null}
        <button class="button primary" type="submit" disabled={busy || changed.length === 0}>
          {busy
            ? "Saving…"
            : changed.length === 0
              ? "No changes"
              : `Save ${changed.length} change${changed.length > 1 ? "s" : ""}`}
        </button>
      </div>
    </form>
  );
}
