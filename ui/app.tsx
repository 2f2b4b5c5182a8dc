// The shell: the navigation and the page the address names, or the login screen when the node
// wants a token.
import { GroupDetailPage } from "./pages/group-detail.tsx";
import { GroupsPage } from "./pages/groups.tsx";
import { LoginPage } from "./pages/login.tsx";
import { OverviewPage } from "./pages/overview.tsx";
import { TopicDetailPage } from "./pages/topic-detail.tsx";
import { TopicsPage } from "./pages/topics.tsx";
import { href, type Route, useRoute } from "./router.ts";
import { useLoginNeeded } from "./session.ts";

const NAV = [
  ["", "Overview"],
  ["topics", "Topics"],
  ["groups", "Groups"],
] as const;

export function App() {
  const route = useRoute();
  const loginNeeded = useLoginNeeded();
  if (loginNeeded) return <LoginPage />;
  const section = route.parts[0] ?? "";
  return (
    <div class="shell">
      <header class="topbar">
        <a class="brand" href={href()}>
          <span class="brand-mark">≋</span> Sluice
        </a>
        <nav class="nav" aria-label="Sections">
          {NAV.map(([id, label]) => (
            <a key={id} href={href(...(id ? [id] : []))} class={section === id ? "active" : ""}>
              {label}
            </a>
          ))}
        </nav>
      </header>
      <main class="main">
        <Page route={route} />
      </main>
    </div>
  );
}

function Page({ route }: { route: Route }) {
  const [section, name, tab] = route.parts;
  if (section === "topics" && name !== undefined)
    return <TopicDetailPage key={name} name={name} tab={tab ?? ""} />;
  if (section === "topics") return <TopicsPage />;
  if (section === "groups" && name !== undefined) return <GroupDetailPage key={name} name={name} />;
  if (section === "groups") return <GroupsPage />;
  return <OverviewPage />;
}
