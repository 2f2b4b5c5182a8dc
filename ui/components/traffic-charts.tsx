// Records/s and bytes/s in and out over the last minutes, live: for the node, or for one topic.
import { useMemo } from "preact/hooks";
import type { TrafficSample } from "../api.ts";
import { formatBytes, formatRate } from "../format.ts";
import { useTraffic } from "../traffic-store.ts";
import { Chart } from "./chart.tsx";

const IN = "#2f6fde";
const OUT = "#17a673";
const RECORD_SERIES = [
  { label: "records in", color: IN },
  { label: "records out", color: OUT },
];
const BYTE_SERIES = [
  { label: "bytes in", color: IN },
  { label: "bytes out", color: OUT },
];

export function TrafficCharts({ topic }: { topic?: string }) {
  const samples = useTraffic();
  const { records, bytes } = useMemo(() => chartData(samples, topic), [samples, topic]);
  return (
    <div class="chart-row">
      <Chart
        title="Records per second"
        series={RECORD_SERIES}
        data={records}
        formatY={(v) => formatRate(v)}
      />
      <Chart
        title="Bytes per second"
        series={BYTE_SERIES}
        data={bytes}
        formatY={(v) => `${formatBytes(v)}/s`}
      />
    </div>
  );
}

function chartData(samples: TrafficSample[], topic: string | undefined) {
  const x: number[] = [];
  const recordsIn: number[] = [];
  const recordsOut: number[] = [];
  const bytesIn: number[] = [];
  const bytesOut: number[] = [];
  for (const sample of samples) {
    const rate = topic === undefined ? sample.total : sample.topics[topic];
    x.push(sample.timeMs / 1000);
    recordsIn.push(rate?.recordsInPerS ?? 0);
    recordsOut.push(rate?.recordsOutPerS ?? 0);
    bytesIn.push(rate?.bytesInPerS ?? 0);
    bytesOut.push(rate?.bytesOutPerS ?? 0);
  }
  return { records: [x, recordsIn, recordsOut], bytes: [x, bytesIn, bytesOut] };
}
