// The market's state as the views show it, re-read from storage at every new best
// block. A development or pilot chain holds a few hundred records; reading them
// whole keeps every view consistent with one block. (A grid-scale chain would read
// by location: OpenRequests, Book and the flexMarket_* RPCs are indexed that way.)

import type { ApiPromise } from '@polkadot/api';
import { signal, effect } from '@preact/signals';
import * as P from './parse';
import { apiSig, best, rpc } from './chain';
import { kindName, type Asset, type Contract, type Dso, type Location, type MatchPreview, type Offer, type Params, type Proposal, type Request, type SettlementView } from './types';

export interface Snapshot {
  block: number;
  params: Params;
  maxWindowMs: number;
  maxOffersPerAsset: number;
  maxDeviceRefLen: number;
  maxNameLen: number;
  dsos: Dso[];
  locations: Location[];
  fsps: Set<string>;
  assets: Asset[];
  requests: Request[];
  offers: Offer[];
  proposals: Map<number, Proposal>;
  contracts: Map<number, Contract>;
  unclaimed: { fsp: string; request: number; dso: string; amount: bigint }[];
}

/** The name of location `id`, or "location <id>" for one the chain no longer holds. */
export function locationName(snap: Snapshot, id: number): string {
  return snap.locations.find((l) => l.id === id)?.name ?? `location ${id}`;
}

/** The kind of asset `id` in words ("V2G charger"); empty for an asset the chain no longer holds. */
export function assetKindName(snap: Snapshot, id: number): string {
  return kindName(snap.assets.find((a) => a.id === id)?.spec.kind ?? '');
}

export const snapshot = signal<Snapshot | null>(null);
export const snapshotError = signal<string>('');

const entries = async (api: ApiPromise, name: string) => {
  const list = await (api.query.flexMarket as any)[name].entries();
  return list.map(([k, v]: any) => [k.args.map((a: any) => a.toJSON()), v.isSome !== undefined ? (v.isSome ? v.unwrap().toJSON() : null) : v.toJSON()]);
};

const konst = (api: ApiPromise, name: string, dflt: number) => {
  const c = (api.consts.flexMarket as any)?.[name];
  return c ? Number(c.toString()) : dflt;
};

export async function loadSnapshot(api: ApiPromise, block: number): Promise<Snapshot> {
  const [params, dsos, locations, fsps, assets, requests, offers, proposals, contracts, unclaimed] = await Promise.all([
    api.query.flexMarket.params(),
    entries(api, 'dsos'),
    entries(api, 'locations'),
    entries(api, 'fsps'),
    entries(api, 'assets'),
    entries(api, 'requests'),
    entries(api, 'offers'),
    entries(api, 'proposals'),
    entries(api, 'contracts'),
    (api.query.flexMarket as any).unclaimedPayouts ? entries(api, 'unclaimedPayouts') : Promise.resolve([]),
  ]);
  return {
    block,
    params: P.params(params.toJSON()),
    maxWindowMs: konst(api, 'maxWindowMs', 24 * 3_600_000),
    maxOffersPerAsset: konst(api, 'maxOffersPerAsset', 96),
    maxDeviceRefLen: konst(api, 'maxDeviceRefLen', 64),
    maxNameLen: konst(api, 'maxNameLen', 64),
    dsos: dsos.map(([[k], v]: any) => P.dso(String(k), v)),
    locations: locations.map(([[k], v]: any) => P.location(Number(k), v)).sort((a: Location, b: Location) => a.id - b.id),
    fsps: new Set(fsps.map(([[k]]: any) => String(k))),
    assets: assets.map(([[k], v]: any) => P.asset(Number(k), v)).sort((a: Asset, b: Asset) => a.id - b.id),
    requests: requests.map(([[k], v]: any) => P.request(Number(k), v)).sort((a: Request, b: Request) => b.id - a.id),
    offers: offers.map(([[k], v]: any) => P.offer(Number(k), v)).sort((a: Offer, b: Offer) => a.id - b.id),
    proposals: new Map(proposals.map(([[k], v]: any) => [Number(k), P.proposal(Number(k), v)])),
    contracts: new Map(contracts.map(([[k], v]: any) => [Number(k), P.contract(Number(k), v)])),
    unclaimed: unclaimed.map(([[fsp, request], v]: any) => ({ fsp: String(fsp), request: Number(request), dso: String(v?.[0]), amount: P.big(v?.[1]) })),
  };
}

let loading = false;
let again = false;

/** Re-reads the market now (after a transaction) or at the next block. */
export async function refresh() {
  const api = apiSig.value;
  if (!api) return;
  if (loading) {
    again = true;
    return;
  }
  loading = true;
  try {
    snapshot.value = await loadSnapshot(api, best.value);
    snapshotError.value = '';
  } catch (e) {
    snapshotError.value = (e as Error).message;
  } finally {
    loading = false;
    if (again) {
      again = false;
      void refresh();
    }
  }
}

effect(() => {
  if (apiSig.value && best.value >= 0) void refresh();
});

// The flexMarket_* RPCs.
export const openRequestsAt = async (location: number) => P.openRequests(await rpc('flexMarket_openRequests', [location]));
export const eligibleOffers = async (request: number) => P.eligibleOffers(await rpc('flexMarket_eligibleOffers', [request]));
export const matchPreview = async (request: number): Promise<MatchPreview | null> => P.matchPreview(await rpc('flexMarket_matchPreview', [request]));
export const settlementOf = async (request: number): Promise<SettlementView | null> => P.settlement(await rpc('flexMarket_settlement', [request]));

/** Free balance of `address`, planks. */
export async function freeBalance(api: ApiPromise, address: string): Promise<bigint> {
  const a: any = await api.query.system.account(address);
  return a.data.free.toBigInt();
}
