// Every topic with its partitions, size and current rates; the create form below.
import { EmptyState } from "../components/empty-state.tsx";
import { ErrorBox } from "../components/error-box.tsx";
import { Loading } from "../components/loading.tsx";
import { formatBytes, formatRate } from "../format.ts";
import { href, navigate } from "../router.ts";
import { api } from "../session.ts";
import { useTraffic } from "../traffic-store.ts";
import { usePoll } from "../use-poll.ts";
import { CreateTopicForm } from "./create-topic-form.tsx";

export function TopicsPage() {
  const topics = usePoll(api.topics, 3000);
  const latest = useTraffic().at(-1);
  return (
    <section class="page">
      <header class="page-header">
        <h1>Topics</h1>
      </header>
      <ErrorBox error={topics.error} title="Cannot list topics" />
      {topics.data === undefined ? (
        topics.error ? null : (
          <Loading what="topics" />
        )
      ) : topics.data.length === 0 ? (
        <EmptyState title="No topics yet">
          Create the first one below; producers then write to it by name.
        </EmptyState>
      ) : (
        <div class="table-wrap">
          <table class="table">
            <thead>
              <tr>
                <th>Name</th>
                <th class="num">Partitions</th>
                <th class="num">Size</th>
                <th class="num">In</th>
                <th class="num">Out</th>
              </tr>
            </thead>
            <tbody>
              {topics.data.map((topic) => {
                const rate = latest?.topics[topic.name];
                return (
                  <tr key={topic.name}>
                    <td>
                      <a href={href("topics", topic.name)}>{topic.name}</a>
                    </td>
                    <td class="num">{topic.partitions}</td>
                    <td class="num">{formatBytes(topic.sizeBytes)}</td>
                    <td class="num">{formatRate(rate?.recordsInPerS ?? 0)}</td>
                    <td class="num">{formatRate(rate?.recordsOutPerS ?? 0)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <CreateTopicForm onCreated={(name) => navigate(href("topics", name))} />
    </section>
  );
}
