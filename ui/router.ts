// Hash routing: /ui#/topics/orders/messages, so the server serves one page and any view can be
// bookmarked or reloaded.
import { useEffect, useState } from "preact/hooks";

export interface Route {
  /** Path segments after #/, decoded: ["topics", "orders"]. */
  parts: string[];
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const [path = "", query = ""] = hash.replace(/^#\/?/, "").split("?");
  const parts = path
    .split("/")
    .filter((part) => part !== "")
    .map(decodeURIComponent);
  return { parts, query: new URLSearchParams(query) };
}

export function href(...parts: Array<string | number>): string {
  return `#/${parts.map((part) => encodeURIComponent(String(part))).join("/")}`;
}

export function navigate(to: string): void {
  location.hash = to;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(location.hash));
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
