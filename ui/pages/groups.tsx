// Every consumer group with its state, generation and members.
import { EmptyState } from "../components/empty-state.tsx";
import { ErrorBox } from "../components/error-box.tsx";
import { Loading } from "../components/loading.tsx";
import { href } from "../router.ts";
import { api } from "../session.ts";
import { usePoll } from "../use-poll.ts";

export function GroupsPage() {
  const groups = usePoll(api.groups, 3000);
  return (
    <section class="page">
      <header class="page-header">
        <h1>Consumer groups</h1>
      </header>
      <ErrorBox error={groups.error} title="Cannot list groups" />
      {groups.data === undefined ? (
        groups.error ? null : (
          <Loading what="groups" />
        )
      ) : groups.data.length === 0 ? (
        <EmptyState title="No consumer groups yet">
          A group appears when a consumer joins one (<code>POST /api/v1/groups/&lt;group&gt;/members</code>)
          or commits offsets for it.
        </EmptyState>
      ) : (
        <div class="table-wrap">
          <table class="table">
            <thead>
              <tr>
                <th>Group</th>
                <th>State</th>
                <th class="num">Generation</th>
                <th class="num">Members</th>
              </tr>
            </thead>
            <tbody>
              {groups.data.map((g) => (
                <tr key={g.group}>
                  <td>
                    <a href={href("groups", g.group)}>{g.group}</a>
                  </td>
                  <td>
                    <span class={`pill state-${g.state}`}>{g.state}</span>
                  </td>
                  <td class="num">{g.generationId}</td>
                  <td class="num">{g.members}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
