// The transformer's base load: the SimBench LV profile the pilot uses
// (scripts/pilot/data, a week from Monday 2016-10-10 in 15-minute steps), scaled as
// the pilot scales it, laid on the market's day by weekday and time of day.


/** The pilot's base load factor on the shipped profile. */
export const BASE_SCALE = 1.8;
const STEP_MIN = 15;

export interface Profile {
  kw: number[];
}

export function parseProfile(csv: string): Profile {
  const lines = csv.trim().split(/\r?\n/);
  const col = lines[0].split(',').findIndex((c) => c.trim() === 'transformer_kw');
  if (col < 0) throw new Error('profile has no transformer_kw column');
  const kw = lines.slice(1).map((l, i) => {
    const v = Number(l.split(',')[col]);
    if (!Number.isFinite(v)) throw new Error(`profile line ${i + 2}: no number`);
    return v;
  });
  return { kw };
}

/** Base load (kW, scaled) at local time `ms`: the profile's same weekday and minute. */
export function baseLoadAt(p: Profile, ms: number): number {
  const d = new Date(ms);
  const weekday = (d.getDay() + 6) % 7; // Monday = 0, as the profile starts
  const minute = weekday * 1440 + d.getHours() * 60 + d.getMinutes() + d.getSeconds() / 60;
  const x = Math.min(minute / STEP_MIN, p.kw.length - 1);
  const i = Math.min(Math.floor(x), p.kw.length - 2);
  const f = x - i;
  return (p.kw[i] * (1 - f) + p.kw[i + 1] * f) * BASE_SCALE;
}

/** Start of the local day of `ms`. */
export function dayStart(ms: number): number {
  const d = new Date(ms);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

let cached: Promise<Profile> | null = null;
export function loadProfile(): Promise<Profile> {
  cached ??= fetch('data/transformer.csv')
    .then((r) => {
      if (!r.ok) throw new Error(`profile: HTTP ${r.status}`);
      return r.text();
    })
    .then(parseProfile);
  return cached;
}

