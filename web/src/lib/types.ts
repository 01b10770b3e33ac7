// The market's records as the app holds them: plain values, chain units (W, Wh,
// planks as BigInt, Unix ms of market time).

export type Direction = 'Up' | 'Down';
export type Pricing = 'PayAsBid' | 'PayAsClear';
export type AssetKind = 'Battery' | 'V2gCharger' | 'EvCharger' | 'FlexibleLoad' | 'Generator';
export const ASSET_KINDS: [AssetKind, string][] = [
  ['Battery', 'Battery'],
  ['V2gCharger', 'V2G charger'],
  ['EvCharger', 'EV charger'],
  ['FlexibleLoad', 'Flexible load'],
  ['Generator', 'Generator'],
];
export const kindName = (k: string) => ASSET_KINDS.find((x) => x[0] === k)?.[1] ?? k;
export type AssetStatus = 'Pending' | 'Prequalified' | 'Suspended';
export type RequestStatus = 'Open' | 'Accepted' | 'Settled' | 'Cancelled' | 'Expired';

export interface Window {
  start: number;
  end: number;
}

export interface RequestSpec {
  location: number;
  window: Window;
  direction: Direction;
  powerW: number;
  maxPrice: bigint;
  gateClosure: number;
  partial: boolean;
  pricing: Pricing;
  maxOverW: number;
}

export interface Request {
  id: number;
  dso: string;
  spec: RequestSpec;
  status: RequestStatus;
  deposit: bigint;
}

export type Divisibility = 'AllOrNothing' | { divisible: number };

export interface OfferSpec {
  asset: number;
  window: Window;
  direction: Direction;
  powerW: number;
  price: bigint;
  divisibility: Divisibility;
}

export interface Offer {
  id: number;
  fsp: string;
  location: number;
  spec: OfferSpec;
  /** 'Open' or 'Matched'. */
  status: string;
  matchedTo?: number;
}

export interface AssetSpec {
  kind: AssetKind;
  location: number;
  maxExportW: number;
  maxImportW: number;
  capacityWh: number;
  minSocPercent: number;
  device: string;
}

export interface Asset {
  id: number;
  owner: string;
  spec: AssetSpec;
  status: AssetStatus;
  deposit: bigint;
  openOffers: number;
}

export interface Location {
  id: number;
  dso: string;
  name: string;
}

export interface Dso {
  account: string;
  locations: number[];
  oracles: string[];
  activeRequests: number;
}

export interface Proposal {
  request: number;
  submitter: string;
  fills: { offer: number; powerW: number }[];
  coveredW: number;
  scoreWPrice: bigint;
  cost: bigint;
}

export interface Contract {
  request: number;
  fillCount: number;
  powerW: number;
  energyWh: number;
  cost: bigint;
  escrow: bigint;
  acceptedAt: number;
  reported: number;
  reportDeadline: number;
}

export interface Params {
  settlementGraceMs: number;
  retentionMs: number;
  penaltyThresholdPpb: number;
  penaltyRatePpb: number;
  requestDeposit: bigint;
  assetDeposit: bigint;
  fspDeposit: bigint;
  solutionMarginPpb: number;
  priceCap: bigint | null;
  horizonMs: number;
}

export interface MarketClock {
  chainMs: number;
  marketMs: number;
  scale: number;
}

// flexMarket_* RPC views.

/** What a fill of a match is, proposed or bought: which offer's asset, how much, at what price. */
export interface FillTerms {
  offer: number;
  asset: number;
  fsp: string;
  powerW: number;
  price: bigint;
  cost: bigint;
}

export interface PreviewFill extends FillTerms {
  energyWh: number;
}

export interface MatchPreview {
  request: number;
  source: string;
  requestedW: number;
  powerW: number;
  energyWh: number;
  cost: bigint;
  fills: PreviewFill[];
}

export interface FillView extends FillTerms {
  index: number;
  contractedWh: number;
  report: { deliveredWh: number; samplesRoot: string; reportedAt: number } | null;
  outcome: { ratePpb: number; paid: bigint; penalty: bigint; refunded: bigint } | null;
}

export interface SettlementView {
  request: Request;
  powerW: number;
  contractedWh: number;
  cost: bigint;
  escrow: bigint;
  acceptedAt: number;
  reportDeadline: number;
  reportedFills: number;
  fills: FillView[];
}

// The bridge's read endpoints.

export interface Sample {
  atMs: number;
  exportedWh: number;
  importedWh: number;
  powerW: number;
  socPermille: number | null;
}

export interface BridgeDispatch {
  request: number;
  fill: number;
  asset: number;
  startMs: number;
  endMs: number;
  powerW: number;
  direction: Direction;
  stage: string;
  stop: { atMs: number; reason: string } | null;
  deliveredWh: number | null;
}

export interface BridgeCommand {
  atMs: number;
  asset: number;
  command: string;
  outcome: string;
  reason: string;
}
