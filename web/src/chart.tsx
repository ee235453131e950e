import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  values: (number | null)[];
  /** A CSS custom property of style.css (`--series-1`), so the chart follows the colour scheme. */
  colorVar: string;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/**
 * A daily line chart (uPlot: canvas, ~50 KB). Dates are YYYY-MM-DD, drawn at UTC midnight.
 * The canvas is sized to its container and follows it (ResizeObserver).
 */
export function LineChart(props: { dates: string[]; series: Series[]; label: string; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const container = box.current;
    if (!container || props.dates.length === 0) return;
    const axis = { stroke: cssVar('--text-muted'), grid: { stroke: cssVar('--grid') }, ticks: { stroke: cssVar('--grid') } };
    const options: uPlot.Options = {
      width: Math.max(container.clientWidth, 200),
      height: props.height ?? 280,
      scales: { x: { time: true } },
      axes: [axis, { ...axis, size: 64 }],
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      series: [{}, ...props.series.map((s) => ({ label: s.label, stroke: cssVar(s.colorVar), width: 2, spanGaps: true }))],
    };
    const xs = props.dates.map((date) => Date.parse(`${date}T00:00:00Z`) / 1000);
    const plot = new uPlot(options, [xs, ...props.series.map((s) => s.values)], container);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(container.clientWidth, 200), height: options.height }));
    resize.observe(container);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [props.dates, props.series, props.height]);
  if (props.dates.length === 0) return <p class="muted">No data in this range.</p>;
  return <div ref={box} class="chart" role="img" aria-label={props.label} />;
}

export const RANGES = ['1M', '3M', '1Y', '5Y', 'All'] as const;
export type Range = (typeof RANGES)[number];

/** The first day of a range ending today (UTC), as YYYY-MM-DD; All starts at the store's earliest possible day. */
export function rangeStart(range: Range, today = new Date()): string {
  const d = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()));
  if (range === 'All') return '1900-01-01';
  if (range === '1M') d.setUTCMonth(d.getUTCMonth() - 1);
  if (range === '3M') d.setUTCMonth(d.getUTCMonth() - 3);
  if (range === '1Y') d.setUTCFullYear(d.getUTCFullYear() - 1);
  if (range === '5Y') d.setUTCFullYear(d.getUTCFullYear() - 5);
  return d.toISOString().slice(0, 10);
}

export function RangePicker(props: { value: Range; onChange: (range: Range) => void; label: string; ranges?: readonly Range[] }) {
  return (
    <div class="segmented" role="group" aria-label={props.label}>
      {(props.ranges ?? RANGES).map((range) => (
        <button type="button" aria-pressed={props.value === range} onClick={() => props.onChange(range)}>
          {range}
        </button>
      ))}
    </div>
  );
}
