// The market's extrinsics, built from the app's types (chain units). Every call the
// app signs is here.
import type { ApiPromise } from '@polkadot/api';
import { stringToHex } from '@polkadot/util';
import type { AssetSpec, AssetStatus, OfferSpec, RequestSpec } from './types';

const req = (s: RequestSpec) => ({
  location: s.location,
  window: { start: s.window.start, end: s.window.end },
  direction: s.direction,
  powerW: s.powerW,
  maxPrice: s.maxPrice,
  gateClosure: s.gateClosure,
  partial: s.partial,
  pricing: s.pricing,
  maxOverW: s.maxOverW,
});

const off = (s: OfferSpec) => ({
  asset: s.asset,
  window: { start: s.window.start, end: s.window.end },
  direction: s.direction,
  powerW: s.powerW,
  price: s.price,
  divisibility: s.divisibility === 'AllOrNothing' ? 'AllOrNothing' : { Divisible: { minPowerW: s.divisibility.divisible } },
});

const ast = (s: AssetSpec) => ({
  kind: s.kind,
  location: s.location,
  maxExportW: s.maxExportW,
  maxImportW: s.maxImportW,
  capacityWh: s.capacityWh,
  minSocPercent: s.minSocPercent,
  // Raw bytes as hex: a Uint8Array would be read as SCALE-encoded (with a length prefix).
  device: stringToHex(s.device),
});

export const calls = (api: ApiPromise) => {
  const m = api.tx.flexMarket;
  return {
    createRequest: (s: RequestSpec) => m.createRequest(req(s)),
    updateRequest: (id: number, s: RequestSpec) => m.updateRequest(id, req(s)),
    cancelRequest: (id: number) => m.cancelRequest(id),
    matchRequest: (id: number) => m.matchRequest(id),
    acceptMatch: (id: number, maxCost: bigint) => m.acceptMatch(id, maxCost),
    createOffer: (s: OfferSpec) => m.createOffer(off(s)),
    updateOffer: (id: number, s: OfferSpec) => m.updateOffer(id, off(s)),
    cancelOffer: (id: number) => m.cancelOffer(id),
    registerFsp: () => m.registerFsp(),
    registerAsset: (s: AssetSpec) => m.registerAsset(ast(s)),
    updateAsset: (id: number, s: AssetSpec) => m.updateAsset(id, ast(s)),
    deregisterAsset: (id: number) => m.deregisterAsset(id),
    setAssetStatus: (id: number, status: AssetStatus) => m.setAssetStatus(id, status),
    settle: (id: number) => m.settle(id),
    claimPayout: (id: number) => m.claimPayout(id),
  };
};
