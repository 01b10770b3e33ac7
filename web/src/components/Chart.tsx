// A uPlot time-series chart. `data[0]` are Unix ms (shown in local time); the other
// arrays are the series, `null` for gaps.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const hhmm = (ms: number) => {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
};

export interface SeriesSpec {
  label: string;
  stroke: string;
  scale?: string;
  dash?: number[];
  fill?: string;
  stepped?: boolean;
  width?: number;
}

export interface AxisSpec {
  scale: string;
  label: string;
  side?: 'left' | 'right';
  range?: [number, number];
}

export function Chart(props: {
  title: string;
  data: (number | null)[][];
  series: SeriesSpec[];
  axes: AxisSpec[];
  height?: number;
  /** Market time now, drawn as a vertical line. */
  now?: number | null;
  testid?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const nowRef = useRef<number | null | undefined>(props.now);
  nowRef.current = props.now;
  const shape = JSON.stringify([props.series, props.axes, props.title]);

  useEffect(() => {
    if (!box.current) return;
    const width = Math.max(320, box.current.clientWidth || 600);
    const opts: uPlot.Options = {
      title: props.title,
      width,
      height: props.height ?? 220,
      ms: 1,
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      scales: Object.fromEntries([
        ['x', { time: true }],
        ...props.axes.map((a) => [a.scale, a.range ? { range: a.range } : { auto: true }]),
      ]),
      axes: [
        { values: (_u: uPlot, ticks: number[]) => ticks.map((t) => hhmm(t)) },
        ...props.axes.map((a) => ({ scale: a.scale, label: a.label, side: a.side === 'right' ? 1 : 3, grid: { show: a.side !== 'right' } })),
      ],
      series: [
        {},
        ...props.series.map((s) => ({
          label: s.label,
          stroke: s.stroke,
          scale: s.scale ?? props.axes[0].scale,
          width: s.width ?? 2,
          dash: s.dash,
          fill: s.fill,
          paths: s.stepped ? uPlot.paths.stepped!({ align: 1 }) : undefined,
          spanGaps: false,
          points: { show: false },
        })),
      ],
      hooks: {
        draw: [
          (u) => {
            const n = nowRef.current;
            if (n == null) return;
            const x = u.valToPos(n, 'x', true);
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
            const ctx = u.ctx;
            ctx.save();
            ctx.strokeStyle = '#888';
            ctx.setLineDash([4, 4]);
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.restore();
          },
        ],
      },
    };
    plot.current = new uPlot(opts, props.data as uPlot.AlignedData, box.current);
    const ro = new ResizeObserver(() => {
      const w = box.current?.clientWidth;
      if (w && plot.current && Math.abs(plot.current.width - w) > 4) plot.current.setSize({ width: w, height: props.height ?? 220 });
    });
    ro.observe(box.current);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(props.data as uPlot.AlignedData);
  }, [props.data]);

  return <div class="chart" ref={box} data-testid={props.testid} />;
}
