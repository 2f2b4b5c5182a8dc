// A uPlot time-series chart that fills its container's width and redraws in place when data change.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

export interface ChartSeries {
  label: string;
  color: string;
}

export interface ChartProps {
  title: string;
  series: ChartSeries[];
  /** [x (epoch seconds), ...one array per series], as uPlot takes them. */
  data: number[][];
  /** Formats a y value for the axis and the legend. */
  formatY: (value: number) => string;
  heightPx?: number;
  /** Seconds of history the x axis always spans, ending at the newest point: a steady live window. */
  windowS?: number;
}

export function Chart({ title, series, data, formatY, heightPx = 180, windowS = 300 }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(data);
  latest.current = data;

  useEffect(() => {
    const element = box.current!;
    const options: uPlot.Options = {
      width: Math.max(element.clientWidth, 200),
      height: heightPx,
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      scales: {
        // Until there are samples uPlot has no max: the window then ends now, not at some odd date.
        x: {
          time: true,
          range: (_u, _min, max) => {
            const endS = Number.isFinite(max) && max > 0 ? max : Date.now() / 1000;
            return [endS - windowS, endS];
          },
        },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        { stroke: "#8b95a5", grid: { stroke: "#e6e9ef" } },
        {
          stroke: "#8b95a5",
          grid: { stroke: "#e6e9ef" },
          size: 84,
          values: (_u, ticks) => ticks.map(formatY),
        },
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          fill: `${s.color}18`,
          value: (_u: uPlot, v: number | null) => (v === null ? "—" : formatY(v)),
        })),
      ],
    };
    plot.current = new uPlot(options, latest.current as uPlot.AlignedData, element);
    const resize = new ResizeObserver(() => {
      plot.current?.setSize({ width: Math.max(element.clientWidth, 200), height: heightPx });
    });
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [series.map((s) => s.label).join()]);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} class="chart-plot" />
    </figure>
  );
}
