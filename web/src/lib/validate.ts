// What the form checks before anything is signed: the pallet's own checks
// (pallets/flex-market/src/{requests,offers,assets,params}.rs), on the values the
// person typed, converted exactly. Each failure names the field and says why in
// words, with the error the chain would return.

import {
  U32_MAX,
  MAX_PRICE_PER_KWH,
  UnitError,
  flexToPlanks,
  formatDuration,
  formatLocal,
  kwToW,
  kwhToWh,
  localInputToMs,
  planksToFlex,
  wToKw,
  MINUTE_MS,
} from './units';
import type { AssetSpec, Direction, OfferSpec, RequestSpec, AssetKind, Pricing } from './types';

export type Errors = Record<string, string>;
export interface Checked<T> {
  errors: Errors;
  value?: T;
}

/** What a check needs to know about the chain. */
export interface MarketContext {
  /** Market time (Unix ms) by which the transaction will be in a block. */
  now: number;
  /** `params.horizonMs`. */
  horizonMs: number;
  /** `MaxWindowMs`. */
  maxWindowMs: number;
  /** `params.priceCap`, planks per kWh, if any. */
  priceCap?: bigint | null;
}

function field<T>(errors: Errors, name: string, f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    errors[name] = e instanceof UnitError ? e.message : String(e);
    return undefined;
  }
}

function u32(errors: Errors, name: string, v: bigint | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (v > U32_MAX) {
    errors[name] = `${what} is above what the chain stores (${wToKw(U32_MAX)} kW)`;
    return undefined;
  }
  return Number(v);
}

/** The window checks of `check_window`: start < end, ≤ MaxWindowMs, after now, within the horizon. */
export function checkWindow(errors: Errors, start: number | undefined, end: number | undefined, ctx: MarketContext) {
  if (start === undefined || end === undefined) return;
  if (end <= start) {
    errors.end = 'The window must end after it starts (InvalidWindow)';
  } else if (end - start > ctx.maxWindowMs) {
    errors.end = `The window is longer than the longest the market takes, ${formatDuration(ctx.maxWindowMs)} (InvalidWindow)`;
  }
  if (start <= ctx.now) {
    errors.start = `The window must start in the future: market time is ${formatLocal(ctx.now)} (InvalidWindow)`;
  } else if (start > ctx.now + ctx.horizonMs) {
    errors.start = `The window starts further ahead than the market's horizon of ${formatDuration(ctx.horizonMs)}, latest ${formatLocal(ctx.now + ctx.horizonMs)} (WindowTooFar)`;
  }
}

/** The price checks of `check_price`: > 0 and ≤ MAX_PRICE_PER_KWH. */
function checkPrice(errors: Errors, name: string, price: bigint | undefined) {
  if (price === undefined) return;
  if (price === 0n) errors[name] = 'The price must be above zero (ZeroPrice)';
  else if (price > MAX_PRICE_PER_KWH) errors[name] = `The price is above the largest the market takes, ${planksToFlex(MAX_PRICE_PER_KWH, 0)} FLEX per kWh (PriceTooHigh)`;
}

export interface RequestForm {
  location: string;
  direction: Direction;
  powerKw: string;
  start: string;
  end: string;
  maxPriceFlex: string;
  gateClosure: string;
  pricing: Pricing;
  partial: boolean;
  maxOverKw: string;
}

/** A request as typed → a `RequestSpec` the pallet will take, or the reasons it would not. */
export function checkRequest(form: RequestForm, ctx: MarketContext & { locations: number[] }): Checked<RequestSpec> {
  const errors: Errors = {};
  const location = Number(form.location);
  if (!form.location || !ctx.locations.includes(location)) {
    errors.location = 'Pick one of your locations: only the location\'s DSO may post there (NotLocationOperator)';
  }
  const powerW = u32(errors, 'power', field(errors, 'power', () => kwToW(form.powerKw, 'Power')), 'Power');
  if (powerW === 0) errors.power = 'The power must be above zero (PowerOutOfRange)';
  const maxOverW = form.maxOverKw.trim() === '' ? 0 : u32(errors, 'maxOver', field(errors, 'maxOver', () => kwToW(form.maxOverKw, 'Over-cover')), 'Over-cover');
  const start = field(errors, 'start', () => localInputToMs(form.start, 'Start'));
  const end = field(errors, 'end', () => localInputToMs(form.end, 'End'));
  checkWindow(errors, start, end, ctx);
  const gate = field(errors, 'gateClosure', () => localInputToMs(form.gateClosure, 'Gate closure'));
  if (gate !== undefined && start !== undefined) {
    if (gate <= ctx.now) errors.gateClosure = `The gate closure must be in the future: market time is ${formatLocal(ctx.now)} (InvalidGateClosure)`;
    else if (gate > start) errors.gateClosure = 'The gate closure must be at or before the window\'s start (InvalidGateClosure)';
  }
  const maxPrice = field(errors, 'maxPrice', () => flexToPlanks(form.maxPriceFlex, 'Price ceiling'));
  checkPrice(errors, 'maxPrice', maxPrice);
  if (maxPrice !== undefined && !errors.maxPrice && ctx.priceCap != null && maxPrice > ctx.priceCap) {
    errors.maxPrice = `The price ceiling is above the regulator's price cap of ${planksToFlex(ctx.priceCap)} FLEX per kWh (PriceAboveCap)`;
  }
  if (Object.keys(errors).length) return { errors };
  return {
    errors,
    value: {
      location,
      window: { start: start!, end: end! },
      direction: form.direction,
      powerW: powerW!,
      maxPrice: maxPrice!,
      gateClosure: gate!,
      partial: form.partial,
      pricing: form.pricing,
      maxOverW: maxOverW ?? 0,
    },
  };
}

/** What an offer check needs to know about the asset. */
export interface AssetFacts {
  id: number;
  owner: string;
  status: string;
  maxExportW: number;
  maxImportW: number;
  openOffers: number;
}

export interface OfferForm {
  asset: string;
  direction: Direction;
  powerKw: string;
  start: string;
  end: string;
  priceFlex: string;
  divisible: boolean;
  minPowerKw: string;
}

/** An offer as typed → an `OfferSpec`, or the reasons the pallet would refuse it. */
export function checkOffer(
  form: OfferForm,
  ctx: MarketContext & {
    account: string;
    isFsp: boolean;
    assets: AssetFacts[];
    maxOffersPerAsset: number;
    /** The offer being edited: its asset must stay, and it does not count against the limit. */
    editing?: { asset: number };
  },
): Checked<OfferSpec> {
  const errors: Errors = {};
  if (!ctx.isFsp) errors.account = 'Only a registered FSP may offer: register as an FSP first (NotFsp)';
  const asset = ctx.assets.find((a) => String(a.id) === form.asset);
  if (!asset) errors.asset = 'Pick one of your assets (UnknownAsset)';
  else if (asset.owner !== ctx.account) errors.asset = 'You do not own this asset (NotAssetOwner)';
  else if (asset.status !== 'Prequalified') errors.asset = `The asset is ${asset.status.toLowerCase()}: only prequalified assets may offer; the DSO prequalifies them (AssetNotQualified)`;
  else if (ctx.editing && ctx.editing.asset !== asset.id) errors.asset = 'An offer keeps its asset: post a new offer for another (AssetChanged)';
  else if (!ctx.editing && asset.openOffers >= ctx.maxOffersPerAsset) errors.asset = `The asset already has ${ctx.maxOffersPerAsset} open offers, the most allowed (TooManyOffers)`;
  const start = field(errors, 'start', () => localInputToMs(form.start, 'Start'));
  const end = field(errors, 'end', () => localInputToMs(form.end, 'End'));
  checkWindow(errors, start, end, ctx);
  const powerW = u32(errors, 'power', field(errors, 'power', () => kwToW(form.powerKw, 'Power')), 'Power');
  if (powerW !== undefined) {
    const limit = asset ? (form.direction === 'Up' ? asset.maxExportW : asset.maxImportW) : undefined;
    if (powerW === 0) errors.power = 'The power must be above zero (PowerOutOfRange)';
    else if (limit !== undefined && powerW > limit) {
      errors.power = `The asset can deliver at most ${wToKw(limit)} kW ${form.direction === 'Up' ? 'up (export)' : 'down (import)'} (PowerOutOfRange)`;
    }
  }
  let minPowerW: number | undefined;
  if (form.divisible) {
    minPowerW = u32(errors, 'minPower', field(errors, 'minPower', () => kwToW(form.minPowerKw, 'Minimum power')), 'Minimum power');
    if (minPowerW !== undefined && (minPowerW === 0 || (powerW !== undefined && minPowerW > powerW))) {
      errors.minPower = 'The smallest part must be above zero and at most the offered power (PowerOutOfRange)';
    }
  }
  const price = field(errors, 'price', () => flexToPlanks(form.priceFlex, 'Price'));
  checkPrice(errors, 'price', price);
  if (Object.keys(errors).length) return { errors };
  return {
    errors,
    value: {
      asset: asset!.id,
      window: { start: start!, end: end! },
      direction: form.direction,
      powerW: powerW!,
      price: price!,
      divisibility: form.divisible ? { divisible: minPowerW! } : 'AllOrNothing',
    },
  };
}

export interface AssetForm {
  kind: AssetKind;
  location: string;
  maxExportKw: string;
  maxImportKw: string;
  capacityKwh: string;
  minSocPercent: string;
  device: string;
}

/** An asset as typed → an `AssetSpec`, or the reasons the pallet would refuse it. */
export function checkAsset(
  form: AssetForm,
  ctx: { locations: number[]; maxDeviceRefLen: number; isParticipant: boolean },
): Checked<AssetSpec> {
  const errors: Errors = {};
  if (!ctx.isParticipant) errors.account = 'Register as an FSP first: only FSPs and DSOs register assets (NotParticipant)';
  const location = Number(form.location);
  if (form.location === '' || !ctx.locations.includes(location)) errors.location = 'Pick a grid location that exists (UnknownLocation)';
  const exp = u32(errors, 'maxExport', field(errors, 'maxExport', () => kwToW(form.maxExportKw || '0', 'Export power')), 'Export power');
  const imp = u32(errors, 'maxImport', field(errors, 'maxImport', () => kwToW(form.maxImportKw || '0', 'Import power')), 'Import power');
  if (exp === 0 && imp === 0) errors.maxExport = 'The asset must be able to deliver some power, up or down (PowerOutOfRange)';
  const cap = field(errors, 'capacity', () => kwhToWh(form.capacityKwh || '0', 'Capacity'));
  let capacityWh: number | undefined;
  if (cap !== undefined) {
    if (cap > U32_MAX) errors.capacity = 'The capacity is above what the chain stores (4,294,967 kWh)';
    else capacityWh = Number(cap);
  }
  let soc: number | undefined;
  if (!/^\d{1,3}$/.test(form.minSocPercent.trim())) errors.minSoc = 'The minimum state of charge is a whole percentage from 0 to 100';
  else {
    soc = Number(form.minSocPercent.trim());
    if (soc > 100) errors.minSoc = 'The minimum state of charge is above 100 % (SocOutOfRange)';
  }
  const bytes = new TextEncoder().encode(form.device);
  if (bytes.length > ctx.maxDeviceRefLen) errors.device = `The device reference is longer than ${ctx.maxDeviceRefLen} bytes (TooLong)`;
  if (Object.keys(errors).length) return { errors };
  return {
    errors,
    value: {
      kind: form.kind,
      location,
      maxExportW: exp!,
      maxImportW: imp!,
      capacityWh: capacityWh!,
      minSocPercent: soc!,
      device: form.device,
    },
  };
}

/** Whether the DSO can buy a match of `cost` planks with `free` planks available. */
export function checkBuy(cost: bigint, free: bigint): string | undefined {
  if (cost > free) return `Buying holds ${planksToFlex(cost)} FLEX in escrow but the account has only ${planksToFlex(free)} FLEX free`;
  return undefined;
}

/** Rounds market time up to the next whole minute plus `minutes`: a default window start. */
export function nextMinute(now: number, minutes = 0): number {
  return Math.ceil(now / MINUTE_MS) * MINUTE_MS + minutes * MINUTE_MS;
}
