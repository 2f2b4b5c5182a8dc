// One topic: its partitions and segments with a throughput chart, and tabs to browse, tail and produce
// records and to change its config or delete it.
import { useEffect, useState } from "preact/hooks";
import { ConfirmDialog } from "../components/confirm-dialog.tsx";
import { ErrorBox } from "../components/error-box.tsx";
import { Loading } from "../components/loading.tsx";
import { href, navigate } from "../router.ts";
import { api } from "../session.ts";
import { usePoll } from "../use-poll.ts";
import { LiveTail } from "./live-tail.tsx";
import { MessageBrowser } from "./message-browser.tsx";
import { PartitionsTab } from "./partitions-tab.tsx";
import { ProduceForm } from "./produce-form.tsx";
import { TopicConfigTab } from "./topic-config-tab.tsx";

const TABS = [
  ["partitions", "Partitions"],
  ["messages", "Messages"],
  ["tail", "Live tail"],
  ["produce", "Produce"],
  ["config", "Config"],
] as const;

export function TopicDetailPage({ name, tab }: { name: string; tab: string }) {
  const topic = usePoll(() => api.topic(name), 3000, [name]);
  const [deleting, setDeleting] = useState(false);
  // Each tab opens on a fresh description, not one up to a refresh interval old.
  useEffect(() => void topic.reload(), [tab]);
  const current = TABS.some(([id]) => id === tab) ? tab : "partitions";
  return (
    <section class="page">
      <header class="page-header">
        <h1>
          <a class="crumb" href={href("topics")}>
            Topics
          </a>{" "}
          / {name}
        </h1>
        <button type="button" class="button danger-outline" onClick={() => setDeleting(true)}>
          Delete topic
        </button>
      </header>
      <nav class="tabs" aria-label="Topic views">
        {TABS.map(([id, label]) => (
          <a key={id} href={href("topics", name, id)} class={id === current ? "tab active" : "tab"}>
            {label}
          </a>
        ))}
      </nav>
      <ErrorBox error={topic.error} title="Cannot load the topic" />
      {topic.data === undefined ? (
        topic.error ? null : (
          <Loading what={name} />
        )
      ) : current === "partitions" ? (
        <PartitionsTab topic={topic.data} />
      ) : current === "messages" ? (
        <MessageBrowser topic={topic.data} />
      ) : current === "tail" ? (
        <LiveTail topic={topic.data} />
      ) : current === "produce" ? (
        <ProduceForm topic={topic.data} onProduced={() => void topic.reload()} />
      ) : (
        <TopicConfigTab topic={topic.data} onChanged={() => void topic.reload()} />
      )}
      {deleting ? (
        <ConfirmDialog
          title={`Delete topic ${name}?`}
          confirmLabel="Delete topic"
          typeToConfirm={name}
          onConfirm={async () => {
            await api.deleteTopic(name);
            navigate(href("topics"));
          }}
          onClose={() => setDeleting(false)}
        >
          <p>
            Its {topic.data?.partitions.length ?? ""} partitions and every record in them are removed from
            disk at once. Consumers reading it will get errors.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
