// Exact conversions between the units a person reads and types (kW, kWh, FLEX per
// kWh, local date and time) and the chain's (W, Wh, planks, Unix ms). Everything
// that is money or a chain value is a BigInt or an integer; no float ever touches
// a price or an amount.

/** Decimals of FLEX: 1 FLEX = 10^12 planks. */
export const FLEX_DECIMALS = 12;
/** Planks in one FLEX. */
export const PLANKS_PER_FLEX = 10n ** BigInt(FLEX_DECIMALS);
/** Milliseconds per hour: Wh = W × ms / this. */
export const MS_PER_HOUR = 3_600_000n;
export const MINUTE_MS = 60_000;
export const U32_MAX = 4_294_967_295n;
export const U64_MAX = 18_446_744_073_709_551_615n;
/** The highest price the market takes, planks per kWh (`MAX_PRICE_PER_KWH`). */
export const MAX_PRICE_PER_KWH = U64_MAX;

/** A parse that failed, with the reason in words. */
export class UnitError extends Error {}

/**
 * Parses a non-negative decimal number typed by a person ("0.21", "10", "1 000,5"
 * is refused) into an integer of `decimals` fixed decimals: parseFixed("0.21", 12)
 * = 210000000000n. Refuses more fraction digits than `decimals` rather than rounding.
 */
export function parseFixed(text: string, decimals: number, what = 'value'): bigint {
  const s = text.trim().replace(/_/g, '');
  if (s === '') throw new UnitError(`${what} is empty`);
  const m = /^(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || (m[1] === '' && (m[2] ?? '') === '')) {
    throw new UnitError(`${what} must be a number such as 12.5 (digits and one decimal point)`);
  }
  const whole = m[1] || '0';
  let frac = (m[2] ?? '').replace(/0+$/, '');
  if (frac.length > decimals) {
    const unit = decimals === 0 ? 'whole numbers only' : `at most ${decimals} decimals`;
    throw new UnitError(`${what} is more precise than the chain takes (${unit})`);
  }
  frac = frac.padEnd(decimals, '0');
  return BigInt(whole) * 10n ** BigInt(decimals) + (decimals ? BigInt(frac || '0') : 0n);
}

/**
 * Formats an integer of `decimals` fixed decimals: formatFixed(721000000000n, 12) =
 * "0.721". `maxFraction` rounds half up to that many fraction digits; `minFraction`
 * pads with zeros. Exact for any size.
 */
export function formatFixed(
  value: bigint,
  decimals: number,
  opts: { maxFraction?: number; minFraction?: number; group?: boolean } = {},
): string {
  const neg = value < 0n;
  let v = neg ? -value : value;
  let d = decimals;
  const max = opts.maxFraction ?? decimals;
  if (max < d) {
    const cut = 10n ** BigInt(d - max);
    v = (v + cut / 2n) / cut;
    d = max;
  }
  const base = 10n ** BigInt(d);
  let whole = (v / base).toString();
  let frac = d ? (v % base).toString().padStart(d, '0') : '';
  frac = frac.replace(/0+$/, '');
  const min = Math.min(opts.minFraction ?? 0, d);
  if (frac.length < min) frac = frac.padEnd(min, '0');
  if (opts.group) whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${neg && (whole !== '0' || frac) ? '-' : ''}${whole}${frac ? '.' + frac : ''}`;
}

/** "10" or "10.5" kW → W (10000, 10500). At most 1 W resolution. */
export function kwToW(text: string, what = 'power'): bigint {
  return parseFixed(text, 3, what);
}

/** W → kW for display ("10" for 10000, "10.5" for 10500). */
export function wToKw(w: bigint | number, maxFraction = 3): string {
  return formatFixed(BigInt(w), 3, { maxFraction });
}

/** "13.5" kWh → Wh. */
export function kwhToWh(text: string, what = 'energy'): bigint {
  return parseFixed(text, 3, what);
}

/** Wh → kWh for display ("7.21" for 7210). */
export function whToKwh(wh: bigint | number, maxFraction = 3): string {
  return formatFixed(BigInt(wh), 3, { maxFraction });
}

/** "0.21" FLEX (per kWh) → planks (per kWh). */
export function flexToPlanks(text: string, what = 'amount'): bigint {
  return parseFixed(text, FLEX_DECIMALS, what);
}

/** Planks → FLEX for display, rounded half up to `maxFraction` digits. */
export function planksToFlex(planks: bigint | number | string, maxFraction = 6): string {
  return formatFixed(BigInt(planks), FLEX_DECIMALS, { maxFraction, group: true });
}

/** Energy of `powerW` held over `durationMs` (rounded down), as the pallet computes it. */
export function energyWh(powerW: bigint | number, durationMs: bigint | number): bigint {
  return (BigInt(powerW) * BigInt(durationMs)) / MS_PER_HOUR;
}

/** Cost in planks of `wh` at `pricePerKwh` planks per kWh (rounded down). */
export function costPlanks(wh: bigint | number, pricePerKwh: bigint): bigint {
  return (BigInt(wh) * pricePerKwh) / 1000n;
}

/** Largest cost a match of `powerW` over `durationMs` at most `pricePerKwh` can have. */
export function maxCostPlanks(powerW: bigint | number, durationMs: bigint | number, pricePerKwh: bigint): bigint {
  return costPlanks(energyWh(powerW, durationMs), pricePerKwh);
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/**
 * Unix ms → the value of an `<input type="datetime-local">` in the browser's time
 * zone ("2026-05-04T16:00"), to the minute.
 */
export function msToLocalInput(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The value of an `<input type="datetime-local">` (local time) → Unix ms. */
export function localInputToMs(text: string, what = 'time'): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(text.trim());
  if (!m) throw new UnitError(`${what} must be a date and time`);
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0));
  const date = new Date(y, mo - 1, d, h, mi, s || 0, 0);
  if (date.getMonth() !== mo - 1 || date.getDate() !== d) throw new UnitError(`${what} is not a real date`);
  return date.getTime();
}

/** Unix ms → local date and time for display ("4 May 2026, 16:00:00"). */
export function formatLocal(ms: number | bigint, withSeconds = false): string {
  return new Date(Number(ms)).toLocaleString(undefined, {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: withSeconds ? '2-digit' : undefined,
    hour12: false,
  });
}

/** Unix ms → local time of day ("16:05"). */
export function formatTime(ms: number | bigint, withSeconds = false): string {
  const d = new Date(Number(ms));
  return `${pad(d.getHours())}:${pad(d.getMinutes())}${withSeconds ? ':' + pad(d.getSeconds()) : ''}`;
}

/** A duration in ms as "45 min", "1 h 30 min", "2 d 3 h". */
export function formatDuration(ms: number | bigint): string {
  let m = Math.round(Number(ms) / MINUTE_MS);
  const neg = m < 0;
  m = Math.abs(m);
  const d = Math.floor(m / 1440);
  const h = Math.floor((m % 1440) / 60);
  const mm = m % 60;
  const parts = [d ? `${d} d` : '', h ? `${h} h` : '', mm || (!d && !h) ? `${mm} min` : ''].filter(Boolean);
  return (neg ? '-' : '') + parts.slice(0, 2).join(' ');
}

/** Perbill parts per billion → "96.1 %". */
export function ppbToPercent(ppb: bigint | number, maxFraction = 1): string {
  return `${formatFixed(BigInt(ppb), 7, { maxFraction })} %`;
}
