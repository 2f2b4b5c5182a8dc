// The node's traffic rates for every chart on the page: the last minutes from GET /stats, then each
// new sample from the server-sent event stream. One stream per page, opened while a chart watches.
import { useEffect, useState } from "preact/hooks";
import type { TrafficSample } from "./api.ts";
import { api } from "./session.ts";

const HISTORY_MAX = 300;
let samples: TrafficSample[] = [];
let source: EventSource | undefined;
const watchers = new Set<(samples: TrafficSample[]) => void>();

function publish(): void {
  for (const watcher of watchers) watcher(samples);
}

function open(): void {
  void api
    .stats()
    .then((answer) => {
      // Keep any live samples that arrived first; history ends before them.
      const firstLive = samples[0]?.timeMs ?? Number.POSITIVE_INFINITY;
      samples = [...answer.samples.filter((s) => s.timeMs < firstLive), ...samples].slice(-HISTORY_MAX);
      publish();
    })
    .catch(() => {});
  source = new EventSource(api.statsStreamUrl());
  source.addEventListener("sample", (event) => {
    samples = [...samples.slice(-(HISTORY_MAX - 1)), JSON.parse((event as MessageEvent).data)];
    publish();
  });
}

export function useTraffic(): TrafficSample[] {
  const [current, setCurrent] = useState(samples);
  useEffect(() => {
    watchers.add(setCurrent);
    if (source === undefined) open();
    return () => {
      watchers.delete(setCurrent);
      if (watchers.size === 0) {
        source?.close();
        source = undefined;
      }
    };
  }, []);
  return current;
}
