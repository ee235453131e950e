import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Bar } from './api';
import { formatCompact, formatMoney, formatPrice, formatVolume, isoDate } from './format';

export interface Series {
  label: string;
  values: (number | null)[];
  /** A CSS custom property of style.css (`--series-1`), so the chart follows the colour scheme. */
  colorVar: string;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

const toSeconds = (date: string) => Date.parse(`${date}T00:00:00Z`) / 1000;

/**
 * Room right of the plot for half of the last x label (a date centred on its tick, "2026-12-01"),
 * which uPlot would otherwise clip at the canvas edge; null leaves uPlot's own padding on the other sides.
 */
const PLOT_PADDING: uPlot.Padding = [null, 40, null, null];

/** The share of the price chart's height below the price, for the volume bars alone. */
const VOLUME_BAND = 0.25;
/** How high the tallest volume bar reaches, as a share of the height: a little under the band, so bars never touch the price. */
const VOLUME_TOP = 0.2;

/** The x range widened by half a session on each side, so the first and last candles and volume bars are drawn whole. */
function paddedSessions(times: number[]): uPlot.Scale.Range {
  return (_u, min, max) => {
    const halfSession = times.length > 1 ? (max - min) / (times.length - 1) / 2 : 43_200;
    return [min - halfSession, max + halfSession];
  };
}

/** The x axis: dates as the API writes them (YYYY-MM-DD), one format on the whole page; wide enough apart not to collide. */
function dateAxis(): uPlot.Axis {
  return {
    stroke: cssVar('--text-muted'),
    grid: { stroke: cssVar('--grid') },
    ticks: { stroke: cssVar('--grid') },
    space: 96,
    values: (_u, splits) => splits.map((s) => isoDate(s)),
  };
}

/**
 * A uPlot chart in a box that follows its container's width (ResizeObserver); `onHover` gets the
 * hovered point's index, or null when the pointer leaves (the legend then shows the latest point).
 */
function usePlot(
  box: { current: HTMLDivElement | null },
  build: (width: number) => { options: uPlot.Options; data: uPlot.AlignedData } | null,
  onHover: (index: number | null) => void,
  deps: unknown[],
) {
  useEffect(() => {
    const container = box.current;
    if (!container) return;
    const built = build(Math.max(container.clientWidth, 200));
    if (!built) return;
    const { options, data } = built;
    options.hooks = { ...options.hooks, setCursor: [(u) => onHover(u.cursor.idx ?? null)] };
    const plot = new uPlot(options, data, container);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(container.clientWidth, 200), height: options.height }));
    resize.observe(container);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, deps);
}

/** Candles drawn over the price scale: a wick from low to high and a body from open to close, green up, red down. */
function drawCandles(bars: Bar[]) {
  return (u: uPlot) => {
    const ctx = u.ctx;
    const [first, last] = [u.series[0]!.idxs?.[0] ?? 0, u.series[0]!.idxs?.[1] ?? bars.length - 1];
    const count = Math.max(1, last - first + 1);
    const body = Math.max(1, Math.min(14, ((u.bbox.width / count) * 0.6) | 0));
    const up = cssVar('--up');
    const down = cssVar('--down');
    ctx.save();
    ctx.beginPath();
    ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
    ctx.clip();
    for (let i = first; i <= last; i++) {
      const bar = bars[i]!;
      const [open, high, low, close] = [bar.open, bar.high, bar.low, bar.close].map((v) => u.valToPos(Number(v), 'price', true));
      const x = Math.round(u.valToPos(u.data[0][i]!, 'x', true));
      ctx.fillStyle = ctx.strokeStyle = Number(bar.close) >= Number(bar.open) ? up : down;
      ctx.lineWidth = Math.max(1, devicePixelRatio);
      ctx.beginPath();
      ctx.moveTo(x, high!);
      ctx.lineTo(x, low!);
      ctx.stroke();
      const top = Math.min(open!, close!);
      ctx.fillRect(x - body / 2, top, body, Math.max(1, Math.abs(close! - open!)));
    }
    ctx.restore();
  };
}

/**
 * A symbol's daily bars: the close as a line (or candles), the volume as bars beneath on their own
 * scale, and a legend that shows the latest session until a point is hovered.
 */
export function PriceChart(props: { bars: Bar[]; candles: boolean; label: string; currency?: string | null }) {
  const box = useRef<HTMLDivElement>(null);
  const [hovered, setHovered] = useState<number | null>(null);
  const { bars, candles } = props;
  usePlot(
    box,
    (width) => {
      if (bars.length === 0) return null;
      const axis = { stroke: cssVar('--text-muted'), grid: { stroke: cssVar('--grid') }, ticks: { stroke: cssVar('--grid') } };
      const volumes = bars.map((bar) => bar.volume);
      const topVolume = Math.max(1, ...volumes);
      const times = bars.map((bar) => toSeconds(bar.date));
      const closes = bars.map((bar) => Number(bar.close));
      const low = Math.min(...bars.map((bar) => Number(candles ? bar.low : bar.close)));
      const high = Math.max(...bars.map((bar) => Number(candles ? bar.high : bar.close)));
      const span = high - low || Math.abs(high) || 1;
      const top = high + span * 0.05;
      // The lowest price sits on the volume band's upper edge: the price uses all the height above it.
      const bottom = low - ((top - low) * VOLUME_BAND) / (1 - VOLUME_BAND);
      const pricesOnly = (_u: uPlot, splits: number[]) => splits.map((s) => (s >= low ? s : null));
      const options: uPlot.Options = {
        width,
        height: 320,
        padding: PLOT_PADDING,
        legend: { show: false },
        cursor: { drag: { x: false, y: false }, points: { show: !candles } },
        scales: {
          x: { time: true, range: paddedSessions(times) },
          // The price keeps the top three quarters, the candles' highs and lows included; the volume bars the bottom quarter.
          price: { range: () => [bottom, top] },
          volume: { range: [0, topVolume / VOLUME_TOP] },
        },
        axes: [
          dateAxis(),
          {
            ...axis,
            scale: 'price',
            size: 64,
            // No price gridline, tick or label in the volume band: nothing there is a price.
            grid: { ...axis.grid, filter: pricesOnly },
            ticks: { ...axis.ticks, filter: pricesOnly },
            filter: pricesOnly,
            values: (_u, splits) => splits.map((s) => (s === null ? '' : formatPrice(s))),
          },
          { scale: 'volume', show: false },
        ],
        series: [
          {},
          {
            label: 'Close',
            scale: 'price',
            stroke: cssVar('--series-1'),
            width: 2,
            spanGaps: true,
            // Candles are drawn by the draw hook; the close series stays for the cursor, drawing neither line nor points.
            ...(candles ? { paths: () => null, points: { show: false } } : {}),
          },
          {
            label: 'Volume',
            scale: 'volume',
            fill: cssVar('--volume'),
            stroke: cssVar('--volume'),
            paths: uPlot.paths.bars!({ size: [0.7, 12] }),
            points: { show: false },
          },
        ],
        hooks: candles ? { draw: [drawCandles(bars)] } : {},
      };
      return { options, data: [times, closes, volumes] };
    },
    setHovered,
    [bars, candles],
  );
  if (bars.length === 0) return <p class="muted">No data in this range.</p>;
  const shown = bars[hovered ?? bars.length - 1]!;
  return (
    <figure class="chart-figure">
      <figcaption class="legend" id="chart-legend" data-hovered={hovered !== null ? 'true' : 'false'}>
        <span class="legend-date">{shown.date}</span>
        <span>
          <span class="muted">O</span> {formatPrice(shown.open)}
        </span>
        <span>
          <span class="muted">H</span> {formatPrice(shown.high)}
        </span>
        <span>
          <span class="muted">L</span> {formatPrice(shown.low)}
        </span>
        <span>
          <span class="muted">C</span> <strong>{formatPrice(shown.close)}</strong>
        </span>
        <span>
          <span class="muted">Vol</span> <span title={formatVolume(shown.volume)}>{formatCompact(shown.volume)}</span>
        </span>
      </figcaption>
      <div ref={box} class="chart" role="img" aria-label={props.label} />
    </figure>
  );
}

/** Lines over dates (the portfolio's value and cost), with a legend showing the latest point until one is hovered. */
export function LineChart(props: { dates: string[]; series: Series[]; label: string; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  const [hovered, setHovered] = useState<number | null>(null);
  usePlot(
    box,
    (width) => {
      if (props.dates.length === 0) return null;
      const axis = { stroke: cssVar('--text-muted'), grid: { stroke: cssVar('--grid') }, ticks: { stroke: cssVar('--grid') } };
      const options: uPlot.Options = {
        width,
        height: props.height ?? 260,
        padding: PLOT_PADDING,
        legend: { show: false },
        scales: { x: { time: true } },
        axes: [dateAxis(), { ...axis, size: 60, values: (_u, splits) => splits.map((s) => formatCompact(s)) }],
        cursor: { drag: { x: false, y: false } },
        series: [{}, ...props.series.map((s, i) => ({ label: s.label, stroke: cssVar(s.colorVar), width: 2, spanGaps: true, ...(i === 0 ? { fill: cssVar('--series-1-fill') } : {}) }))],
      };
      return { options, data: [props.dates.map(toSeconds), ...props.series.map((s) => s.values)] };
    },
    setHovered,
    [props.dates, props.series, props.height],
  );
  if (props.dates.length === 0) return <p class="muted">No data in this range.</p>;
  const index = hovered ?? props.dates.length - 1;
  return (
    <figure class="chart-figure">
      <figcaption class="legend" id="value-legend">
        <span class="legend-date">{props.dates[index]}</span>
        {props.series.map((s) => (
          <span key={s.label}>
            <span class={`swatch ${s.colorVar.slice(2)}`} aria-hidden="true" /> <span class="muted">{s.label}</span> {formatMoney(s.values[index] ?? null)}
          </span>
        ))}
      </figcaption>
      <div ref={box} class="chart" role="img" aria-label={props.label} />
    </figure>
  );
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

export function Segmented<T extends string>(props: { value: T; onChange: (value: T) => void; label: string; options: readonly T[] }) {
  return (
    <div class="segmented" role="group" aria-label={props.label}>
      {props.options.map((option) => (
        <button type="button" aria-pressed={props.value === option} onClick={() => props.onChange(option)}>
          {option}
        </button>
      ))}
    </div>
  );
}
