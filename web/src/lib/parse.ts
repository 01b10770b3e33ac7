// Every value the app reads from outside (storage decoded by @polkadot/api, the
// flexMarket_* RPC's JSON, the bridge's JSON) is turned into the app's types here,
// and nowhere else. The readers are lenient on form: snake_case or camelCase
// fields, enums as "Up", "up", "pay_as_bid" or { up: null }, amounts as numbers,
// decimal strings, hex strings or codecs. Amounts become BigInt; they never pass
// through a float.

import type {
  Asset,
  AssetKind,
  AssetStatus,
  BridgeCommand,
  BridgeDispatch,
  Contract,
  Direction,
  Divisibility,
  Dso,
  FillTerms,
  FillView,
  Location,
  MarketClock,
  MatchPreview,
  Offer,
  Params,
  Pricing,
  Proposal,
  Request,
  RequestSpec,
  RequestStatus,
  Sample,
  SettlementView,
  Window,
} from './types';

type Json = any;

/** Field `names` of `o` in any of the spellings: `power_w`, `powerW`, `PowerW`. */
export function pick(o: Json, ...names: string[]): Json {
  if (o == null || typeof o !== 'object') return undefined;
  for (const n of names) {
    for (const k of [n, camel(n), snake(n)]) if (k in o) return o[k];
  }
  return undefined;
}

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
const snake = (s: string) => s.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());

/** "pay_as_bid", "payAsBid", "PayAsBid", { payAsBid: null } → "PayAsBid". */
export function enumName(v: Json): string {
  if (v == null) return '';
  if (typeof v === 'object') {
    if (typeof v.toJSON === 'function' && typeof v.type === 'string') return v.type;
    const k = Object.keys(v)[0];
    return k === undefined ? '' : enumName(k);
  }
  const s = String(v);
  return s
    .split(/[_\s-]+/)
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
}

/** The payload of a data-carrying enum value ({ matched: 3 } → 3). */
export function enumValue(v: Json): Json {
  if (v && typeof v === 'object') {
    const k = Object.keys(v)[0];
    return k === undefined ? undefined : v[k];
  }
  return undefined;
}

/** A number, decimal or hex string, bigint or codec → BigInt. */
export function big(v: Json): bigint {
  if (v == null) return 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error(`amount ${v} is not exact`);
    return BigInt(v);
  }
  if (typeof v === 'string') {
    const s = v.trim().replace(/,/g, '');
    if (s === '') return 0n;
    return BigInt(s);
  }
  if (typeof v.toBigInt === 'function') return v.toBigInt();
  if (typeof v.toString === 'function') return BigInt(v.toString());
  throw new Error(`not an amount: ${JSON.stringify(v)}`);
}

/** A W, Wh, ms or id (within 2^53) → number. */
export function num(v: Json): number {
  if (v == null) return 0;
  if (typeof v === 'number') return v;
  const b = big(v);
  return Number(b);
}

/** `v` if it is an array (the RPC's and the bridge's lists), else an empty list. */
function list(v: Json): Json[] {
  return Array.isArray(v) ? v : [];
}

function text(v: Json): string {
  if (v == null) return '';
  if (typeof v === 'string') {
    if (/^0x([0-9a-f]{2})*$/i.test(v)) return hexToText(v);
    return v;
  }
  if (Array.isArray(v)) return new TextDecoder().decode(new Uint8Array(v));
  if (typeof v.toUtf8 === 'function') return v.toUtf8();
  return String(v);
}

function hexToText(h: string): string {
  const bytes = new Uint8Array((h.length - 2) / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(h.slice(2 + 2 * i, 4 + 2 * i), 16);
  return new TextDecoder().decode(bytes);
}

export function window(w: Json): Window {
  return { start: num(pick(w, 'start_ms', 'start')), end: num(pick(w, 'end_ms', 'end')) };
}

export function direction(v: Json): Direction {
  return enumName(v) === 'Down' ? 'Down' : 'Up';
}

export function requestSpec(s: Json): RequestSpec {
  return {
    location: num(pick(s, 'location')),
    window: window(pick(s, 'window')),
    direction: direction(pick(s, 'direction')),
    powerW: num(pick(s, 'power_w')),
    maxPrice: big(pick(s, 'max_price_per_kwh', 'max_price')),
    gateClosure: num(pick(s, 'gate_closure_ms', 'gate_closure')),
    partial: Boolean(pick(s, 'partial')),
    pricing: (enumName(pick(s, 'pricing')) || 'PayAsBid') as Pricing,
    maxOverW: num(pick(s, 'max_over_w')),
  };
}

/** A request from storage (`{ dso, spec, status, deposit }`) or from the RPC (flat). */
export function request(id: number, r: Json): Request {
  const spec = pick(r, 'spec') ?? r;
  return {
    id: num(pick(r, 'id') ?? id),
    dso: String(pick(r, 'dso')),
    spec: requestSpec(spec),
    status: enumName(pick(r, 'status')) as RequestStatus,
    deposit: big(pick(r, 'deposit')),
  };
}

export function divisibility(v: Json, powerW: number, minPowerW?: Json): Divisibility {
  if (minPowerW !== undefined) {
    const m = num(minPowerW);
    return m >= powerW ? 'AllOrNothing' : { divisible: m };
  }
  if (enumName(v) === 'Divisible') {
    const d = enumValue(v);
    return { divisible: num(pick(d, 'min_power_w') ?? d) };
  }
  return 'AllOrNothing';
}

/** An offer from storage (`{ fsp, location, spec, status }`) or from the RPC (flat). */
export function offer(id: number, o: Json): Offer {
  const s = pick(o, 'spec') ?? o;
  const powerW = num(pick(s, 'power_w'));
  const status = pick(o, 'status');
  const matched = enumName(status) === 'Matched' ? num(enumValue(status)) : undefined;
  return {
    id: num(pick(o, 'id') ?? id),
    fsp: String(pick(o, 'fsp')),
    location: num(pick(o, 'location')),
    spec: {
      asset: num(pick(s, 'asset')),
      window: window(pick(s, 'window')),
      direction: direction(pick(s, 'direction')),
      powerW,
      price: big(pick(s, 'price_per_kwh', 'price')),
      divisibility: divisibility(pick(s, 'divisibility'), powerW, pick(s, 'min_power_w')),
    },
    status: enumName(status) || 'Open',
    matchedTo: matched,
  };
}

export function asset(id: number, a: Json): Asset {
  const s = pick(a, 'spec');
  return {
    id,
    owner: String(pick(a, 'owner')),
    spec: {
      kind: enumName(pick(s, 'kind')) as AssetKind,
      location: num(pick(s, 'location')),
      maxExportW: num(pick(s, 'max_export_w')),
      maxImportW: num(pick(s, 'max_import_w')),
      capacityWh: num(pick(s, 'capacity_wh')),
      minSocPercent: num(pick(s, 'min_soc_percent')),
      device: text(pick(s, 'device')),
    },
    status: enumName(pick(a, 'status')) as AssetStatus,
    deposit: big(pick(a, 'deposit')),
    openOffers: num(pick(a, 'open_offers')),
  };
}

export function location(id: number, l: Json): Location {
  return { id, dso: String(pick(l, 'dso')), name: text(pick(l, 'name')) };
}

export function dso(account: string, d: Json): Dso {
  return {
    account,
    locations: (pick(d, 'locations') ?? []).map(num),
    oracles: (pick(d, 'oracles') ?? []).map(String),
    activeRequests: num(pick(d, 'active_requests')),
  };
}

export function proposal(request: number, p: Json): Proposal {
  return {
    request,
    submitter: String(pick(p, 'submitter')),
    fills: (pick(p, 'fills') ?? []).map((f: Json) => ({ offer: num(pick(f, 'offer')), powerW: num(pick(f, 'power_w')) })),
    coveredW: num(pick(p, 'covered_w')),
    scoreWPrice: big(pick(p, 'score_w_price')),
    cost: big(pick(p, 'cost')),
  };
}

export function contract(request: number, c: Json): Contract {
  return {
    request,
    fillCount: num(pick(c, 'fill_count')),
    powerW: num(pick(c, 'power_w')),
    energyWh: num(pick(c, 'energy_wh')),
    cost: big(pick(c, 'cost')),
    escrow: big(pick(c, 'escrow')),
    acceptedAt: num(pick(c, 'accepted_at')),
    reported: num(pick(c, 'reported')),
    reportDeadline: num(pick(c, 'report_deadline')),
  };
}

/** Perbill as parts per billion (a number, a codec, or { parts }). */
function ppb(v: Json): number {
  return num(v);
}

export function params(p: Json): Params {
  const cap = pick(p, 'price_cap');
  return {
    settlementGraceMs: num(pick(p, 'settlement_grace_ms')),
    retentionMs: num(pick(p, 'retention_ms')),
    penaltyThresholdPpb: ppb(pick(p, 'penalty_threshold')),
    penaltyRatePpb: ppb(pick(p, 'penalty_rate')),
    requestDeposit: big(pick(p, 'request_deposit')),
    assetDeposit: big(pick(p, 'asset_deposit')),
    fspDeposit: big(pick(p, 'fsp_deposit')),
    solutionMarginPpb: ppb(pick(p, 'solution_margin')),
    priceCap: cap == null ? null : big(cap),
    horizonMs: num(pick(p, 'horizon_ms')) || 7 * 24 * 3_600_000,
  };
}

export function clock(c: Json): MarketClock | null {
  if (c == null) return null;
  return { chainMs: num(pick(c, 'chain_ms')), marketMs: num(pick(c, 'market_ms')), scale: num(pick(c, 'scale')) || 1 };
}

/** Market time at chain time `chainMs` (as `MarketClock::market_of`). */
export function marketOf(c: MarketClock | null, chainMs: number): number {
  if (!c) return chainMs;
  return c.marketMs + Math.max(0, chainMs - c.chainMs) * c.scale;
}

// flexMarket_* RPC.

export function openRequests(v: Json): Request[] {
  return list(v).map((r: Json) => request(num(pick(r, 'id')), r));
}

export function eligibleOffers(v: Json): Offer[] {
  return list(v).map((o: Json) => offer(num(pick(o, 'id')), o));
}

export function matchPreview(v: Json): MatchPreview | null {
  if (v == null) return null;
  return {
    request: num(pick(v, 'request')),
    source: enumName(pick(v, 'source')),
    requestedW: num(pick(v, 'requested_w')),
    powerW: num(pick(v, 'power_w')),
    energyWh: num(pick(v, 'energy_wh')),
    cost: big(pick(v, 'cost')),
    fills: (pick(v, 'fills') ?? []).map((f: Json) => ({ ...fillTerms(f), energyWh: num(pick(f, 'energy_wh')) })),
  };
}

/** The terms of a fill of the match preview or the settlement view. */
function fillTerms(f: Json): FillTerms {
  return {
    offer: num(pick(f, 'offer')),
    asset: num(pick(f, 'asset')),
    fsp: String(pick(f, 'fsp')),
    powerW: num(pick(f, 'power_w')),
    price: big(pick(f, 'price_per_kwh', 'price')),
    cost: big(pick(f, 'cost')),
  };
}

export function fillView(f: Json, i: number): FillView {
  const r = pick(f, 'report');
  const o = pick(f, 'outcome');
  return {
    ...fillTerms(f),
    index: num(pick(f, 'fill_index', 'fill', 'index') ?? i),
    contractedWh: num(pick(f, 'contracted_wh', 'energy_wh')),
    report: r == null ? null : {
      deliveredWh: num(pick(r, 'delivered_wh')),
      samplesRoot: String(pick(r, 'samples_root') ?? ''),
      reportedAt: num(pick(r, 'reported_at_ms', 'reported_at')),
    },
    outcome: o == null ? null : {
      ratePpb: num(pick(o, 'delivery_rate_ppb', 'delivery_rate')),
      paid: big(pick(o, 'paid')),
      penalty: big(pick(o, 'penalty')),
      refunded: big(pick(o, 'refunded')),
    },
  };
}

export function settlement(v: Json): SettlementView | null {
  if (v == null) return null;
  const r = pick(v, 'request');
  return {
    request: request(num(pick(r, 'id')), r),
    powerW: num(pick(v, 'power_w')),
    contractedWh: num(pick(v, 'contracted_wh', 'energy_wh')),
    cost: big(pick(v, 'cost')),
    escrow: big(pick(v, 'escrow')),
    acceptedAt: num(pick(v, 'accepted_at_ms', 'accepted_at')),
    reportDeadline: num(pick(v, 'report_deadline_ms', 'report_deadline')),
    reportedFills: num(pick(v, 'reported_fills', 'reported')),
    fills: (pick(v, 'fills') ?? []).map(fillView),
  };
}

// The bridge.

export function samples(v: Json): Sample[] {
  return list(v).map((s: Json) => {
    const soc = pick(s, 'soc_permille');
    return {
      atMs: num(pick(s, 'at_ms')),
      exportedWh: num(pick(s, 'exported_wh')),
      importedWh: num(pick(s, 'imported_wh')),
      powerW: num(pick(s, 'power_w')),
      socPermille: soc == null ? null : num(soc),
    };
  });
}

export function dispatches(v: Json): BridgeDispatch[] {
  const rows = Array.isArray(v) ? v : pick(v, 'dispatches') ?? [];
  return rows.map((d: Json) => {
    const f = pick(d, 'fill') ?? {};
    const stop = pick(d, 'stop');
    const delivered = pick(d, 'delivered_wh');
    return {
      request: num(pick(f, 'request')),
      fill: num(pick(f, 'fill_index', 'fill', 'index')),
      asset: num(pick(f, 'asset')),
      startMs: num(pick(f, 'start_ms')),
      endMs: num(pick(f, 'end_ms')),
      powerW: num(pick(f, 'power_w')),
      direction: direction(pick(f, 'direction')),
      stage: enumName(pick(d, 'stage')),
      stop: stop == null ? null : { atMs: num(pick(stop, 'at_ms')), reason: String(pick(stop, 'reason') ?? '') },
      deliveredWh: delivered == null ? null : num(delivered),
    };
  });
}

export function commands(v: Json): BridgeCommand[] {
  return list(v).map((c: Json) => ({
    atMs: num(pick(c, 'at_ms')),
    asset: num(pick(c, 'asset')),
    command: String(pick(c, 'command') ?? ''),
    outcome: String(pick(c, 'outcome') ?? ''),
    reason: String(pick(c, 'reason') ?? ''),
  }));
}

/** Minute power in W from a run of samples: the bridge's `power_w`, or the register's rise. */
export function minutePower(s: Sample[]): { atMs: number; powerW: number }[] {
  return s.map((x, i) => {
    if (x.powerW !== 0 || i === 0) return { atMs: x.atMs, powerW: x.powerW };
    const p = s[i - 1];
    const dt = x.atMs - p.atMs;
    const wh = x.exportedWh - x.importedWh - (p.exportedWh - p.importedWh);
    return { atMs: x.atMs, powerW: dt > 0 ? Math.round((wh * 3_600_000) / dt) : 0 };
  });
}
