/** uPlot, drawn: loaded only when a usage chart is first shown (it is ~50 kB, the chat pages never need it). */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface DrawOptions {
  days: string[];
  series: { label: string; color: string; values: number[] }[];
  stacked: boolean;
  width: number;
  height: number;
  formatX: (day: string) => string;
  formatY: (n: number) => string;
  onHover: (index: number | null) => void;
}

export interface Drawn {
  resize: (width: number, height: number) => void;
  destroy: () => void;
}

export function draw(target: HTMLElement, options: DrawOptions): Drawn {
  const { days, series, stacked } = options;
  const style = getComputedStyle(target);
  const muted = style.getPropertyValue("--muted").trim() || "#667085";
  const line = style.getPropertyValue("--line").trim() || "#e4e0d6";
  const xs = days.map((_, i) => i);
  // Stacked: each series drawn as the sum of itself and those under it, the top one first, so each
  // bar's own part shows above the ones drawn after it.
  let ys = series.map((s) => s.values);
  if (stacked) {
    const running = days.map(() => 0);
    ys = series.map((s) => s.values.map((v, i) => (running[i] += v)));
  }
  const order = stacked ? series.map((_, i) => series.length - 1 - i) : series.map((_, i) => i);
  const bars = uPlot.paths.bars!({ size: [stacked || series.length === 1 ? 0.72 : 0.8 / series.length, 32], gap: 1 });
  const axis = { stroke: muted, grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 }, font: "12px system-ui, sans-serif" };
  const plot = new uPlot(
    {
      width: options.width,
      height: options.height,
      legend: { show: false },
      padding: [8, 14, 0, 0], // room on the right for the last day's label
      cursor: { drag: { x: false, y: false, setScale: false }, points: { show: false }, y: false },
      scales: {
        x: { time: false, range: () => [-0.5, days.length - 0.5] },
        y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.1))] },
      },
      axes: [
        {
          ...axis,
          grid: { show: false },
          space: 40,
          incrs: [1, 2, 3, 7, 14, 28, 56, 91, 182],
          values: (_u, splits) => splits.map((i) => (Number.isInteger(i) && days[i] ? options.formatX(days[i]) : "")),
        },
        {
          ...axis,
          space: 28,
          size: 46,
          incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7, 1e8, 1e9],
          values: (_u, splits) => splits.map((n) => options.formatY(n)),
        },
      ],
      series: [
        {},
        ...order.map((i) => ({
          label: series[i].label,
          stroke: series[i].color,
          fill: series[i].color,
          width: 0,
          paths: bars,
          points: { show: false },
        })),
      ],
      hooks: { setCursor: [(u: uPlot) => options.onHover(u.cursor.idx ?? null)] },
    },
    [xs, ...order.map((i) => ys[i])],
    target,
  );
  return {
    resize: (width, height) => plot.setSize({ width, height }),
    destroy: () => plot.destroy(),
  };
}
