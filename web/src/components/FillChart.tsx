// One fill's dispatch, minute by minute: the power the bridge metered (from the
// meter's register, per minute) against the contracted power, and the state of
// charge; the commands the bridge sent to the device below.
import { useMemo } from 'preact/hooks';
import { Chart } from './Chart';
import { Table, usePoll } from './ui';
import * as bridge from '../lib/bridge';
import { marketNow } from '../lib/chain';
import { formatTime, whToKwh, MINUTE_MS } from '../lib/units';
import type { Direction, FillView, Request, Sample } from '../lib/types';

export interface FillInfo {
  request: number;
  index: number;
  asset: number;
  powerW: number;
  direction: Direction;
  start: number;
  end: number;
}

/** What the chart needs of fill `f` of request `req`. */
export function fillInfo(req: Request, f: FillView): FillInfo {
  const s = req.spec;
  return { request: req.id, index: f.index, asset: f.asset, powerW: f.powerW, direction: s.direction, start: s.window.start, end: s.window.end };
}

/** Metered energy of a run of samples in the fill's direction, Wh. */
export function meteredWh(s: Sample[], direction: Direction): number {
  if (s.length < 2) return 0;
  const a = s[0];
  const b = s[s.length - 1];
  return direction === 'Up' ? b.exportedWh - a.exportedWh : b.importedWh - a.importedWh;
}

/** Average power of each minute from the register (W, positive in the fill's direction). */
export function minuteSeries(s: Sample[], direction: Direction): { atMs: number; w: number }[] {
  const out: { atMs: number; w: number }[] = [];
  for (let i = 1; i < s.length; i++) {
    const a = s[i - 1];
    const b = s[i];
    const dt = b.atMs - a.atMs;
    if (dt <= 0) continue;
    const wh = direction === 'Up' ? b.exportedWh - a.exportedWh : b.importedWh - a.importedWh;
    out.push({ atMs: a.atMs, w: (wh * 3_600_000) / dt });
  }
  return out;
}

export function FillChart(props: { fill: FillInfo; title: string; soc?: boolean; testid?: string }) {
  const f = props.fill;
  const now = marketNow.value;
  const done = now != null && now > f.end + 5 * MINUTE_MS;
  const samples = usePoll(() => bridge.samplesIfKnown(f.asset, f.start, f.end), done ? 60_000 : 2000, [f.asset, f.start, f.end, done, bridge.bridgeAssets.value.has(f.asset)]);
  const cmds = usePoll(() => (bridge.bridgeState.value === 'ok' ? bridge.commands() : Promise.resolve([])), done ? 60_000 : 3000, [f.asset, done, bridge.bridgeState.value]);
  const s = samples.value ?? [];
  const data = useMemo(() => {
    const minutes = Math.max(1, Math.round((f.end - f.start) / MINUTE_MS));
    const xs: number[] = [];
    const metered: (number | null)[] = [];
    const contracted: (number | null)[] = [];
    const soc: (number | null)[] = [];
    const byMinute = new Map(minuteSeries(s, f.direction).map((p) => [p.atMs, p.w]));
    const socBy = new Map(s.map((x) => [x.atMs, x.socPermille]));
    for (let m = 0; m <= minutes; m++) {
      const t = f.start + m * MINUTE_MS;
      xs.push(t);
      const w = byMinute.get(t);
      metered.push(w === undefined ? null : w / 1000);
      contracted.push(f.powerW / 1000);
      const p = socBy.get(t);
      soc.push(p == null ? null : p / 10);
    }
    return props.soc ? [xs, metered, contracted, soc] : [xs, metered, contracted];
  }, [s, f.start, f.end, f.powerW, props.soc]);
  const delivered = meteredWh(s, f.direction);
  const last = s[s.length - 1];
  const mine = (cmds.value ?? []).filter((c) => c.asset === f.asset && c.atMs >= f.start - MINUTE_MS && c.atMs <= f.end + 5 * MINUTE_MS);
  const series = [
    { label: 'metered kW', stroke: '#d62728', stepped: true },
    { label: 'contracted kW', stroke: '#555', dash: [6, 4], width: 1.5 },
    ...(props.soc ? [{ label: 'state of charge %', stroke: '#1f77b4', scale: '%' }] : []),
  ];
  const axes = [
    { scale: 'kW', label: 'kW', range: [0, Math.max(1, (f.powerW / 1000) * 1.25)] as [number, number] },
    ...(props.soc ? [{ scale: '%', label: '%', side: 'right' as const, range: [0, 100] as [number, number] }] : []),
  ];
  return (
    <div class="fill-chart" data-testid={props.testid} data-asset={f.asset}>
      <Chart title={props.title} data={data} series={series} axes={axes} now={now} height={200} />
      <div class="fill-facts">
        <span>
          metered so far: <b data-testid="metered-kwh">{whToKwh(delivered, 2)} kWh</b> of {whToKwh(Math.floor((f.powerW * (f.end - f.start)) / 3_600_000), 2)} kWh
        </span>
        {last?.socPermille != null && <span>state of charge {(last.socPermille / 10).toFixed(1)} %</span>}
        {samples.error && <span class="warn">bridge: {samples.error}</span>}
      </div>
      {mine.length > 0 && (
        <Table class="commands" head={['market time', 'command', 'outcome', 'why']}>
          {mine.slice(-6).map((c) => (
            <tr>
              <td>{formatTime(c.atMs, true)}</td>
              <td>{c.command}</td>
              <td>{c.outcome}</td>
              <td>{c.reason}</td>
            </tr>
          ))}
        </Table>
      )}
    </div>
  );
}
