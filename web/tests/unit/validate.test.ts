import { describe, expect, it } from 'vitest';
import { checkAsset, checkOffer, checkRequest, type RequestForm, type OfferForm, type AssetForm } from '../../src/lib/validate';
import { msToLocalInput, flexToPlanks } from '../../src/lib/units';

const MIN = 60_000;
const now = Date.UTC(2026, 4, 4, 15, 0);
const ctx = { now, horizonMs: 7 * 24 * 60 * MIN, maxWindowMs: 24 * 60 * MIN, priceCap: null as bigint | null };
const at = (min: number) => msToLocalInput(now + min * MIN);

const request = (over: Partial<RequestForm> = {}): RequestForm => ({
  location: '1',
  direction: 'Up',
  powerKw: '20',
  start: at(60),
  end: at(105),
  maxPriceFlex: '0.21',
  gateClosure: at(40),
  pricing: 'PayAsBid',
  partial: false,
  maxOverKw: '',
  ...over,
});

describe('requests', () => {
  it('takes the pilot request and converts it exactly', () => {
    const r = checkRequest(request(), { ...ctx, locations: [1] });
    expect(r.errors).toEqual({});
    expect(r.value).toMatchObject({
      location: 1,
      powerW: 20_000,
      maxPrice: 210_000_000_000n,
      window: { start: now + 60 * MIN, end: now + 105 * MIN },
      gateClosure: now + 40 * MIN,
      maxOverW: 0,
    });
  });
  const refused = (over: Partial<RequestForm>, fieldName: string, why: RegExp, c = ctx) => {
    const r = checkRequest(request(over), { ...c, locations: [1] });
    expect(r.value).toBeUndefined();
    expect(r.errors[fieldName]).toMatch(why);
  };
  it('refuses what the pallet refuses, with the reason', () => {
    refused({ location: '2' }, 'location', /NotLocationOperator/);
    refused({ powerKw: '0' }, 'power', /above zero.*PowerOutOfRange/);
    refused({ powerKw: 'ten' }, 'power', /number/);
    refused({ powerKw: '5000000' }, 'power', /above what the chain stores/);
    refused({ start: at(-5), gateClosure: at(-10) }, 'start', /future.*InvalidWindow/);
    refused({ end: at(60) }, 'end', /end after it starts/);
    refused({ end: at(60 + 25 * 60) }, 'end', /longer than.*InvalidWindow/);
    refused({ start: at(8 * 24 * 60), end: at(8 * 24 * 60 + 30), gateClosure: at(50) }, 'start', /horizon.*WindowTooFar/);
    refused({ gateClosure: at(70) }, 'gateClosure', /at or before the window's start/);
    refused({ gateClosure: at(-1) }, 'gateClosure', /future.*InvalidGateClosure/);
    refused({ maxPriceFlex: '0' }, 'maxPrice', /ZeroPrice/);
    refused({ maxPriceFlex: '20000000' }, 'maxPrice', /PriceTooHigh/);
    refused({ maxPriceFlex: '0.21' }, 'maxPrice', /price cap.*PriceAboveCap/, { ...ctx, priceCap: flexToPlanks('0.2') });
    refused({ maxPriceFlex: '0.1234567890123' }, 'maxPrice', /at most 12 decimals/);
  });
  it('a window within the horizon and a price at the cap pass', () => {
    const r = checkRequest(request({ maxPriceFlex: '0.2' }), { ...ctx, priceCap: flexToPlanks('0.2'), locations: [1] });
    expect(r.errors).toEqual({});
  });
});

const assets = [
  { id: 0, owner: 'bob', status: 'Prequalified', maxExportW: 10_000, maxImportW: 5_000, openOffers: 0 },
  { id: 1, owner: 'bob', status: 'Pending', maxExportW: 10_000, maxImportW: 10_000, openOffers: 0 },
  { id: 2, owner: 'charlie', status: 'Prequalified', maxExportW: 10_000, maxImportW: 10_000, openOffers: 0 },
  { id: 3, owner: 'bob', status: 'Prequalified', maxExportW: 10_000, maxImportW: 10_000, openOffers: 96 },
];
const offer = (over: Partial<OfferForm> = {}): OfferForm => ({
  asset: '0', direction: 'Up', powerKw: '10', start: at(60), end: at(105), priceFlex: '0.10', divisible: false, minPowerKw: '', ...over,
});
const octx = { ...ctx, account: 'bob', isFsp: true, assets, maxOffersPerAsset: 96 };

describe('offers', () => {
  it('takes the pilot offer', () => {
    const r = checkOffer(offer(), octx);
    expect(r.errors).toEqual({});
    expect(r.value).toMatchObject({ asset: 0, powerW: 10_000, price: 100_000_000_000n, divisibility: 'AllOrNothing' });
    expect(checkOffer(offer({ divisible: true, minPowerKw: '2' }), octx).value?.divisibility).toEqual({ divisible: 2000 });
  });
  it('refuses what the pallet refuses, with the reason', () => {
    expect(checkOffer(offer(), { ...octx, isFsp: false }).errors.account).toMatch(/NotFsp/);
    expect(checkOffer(offer({ asset: '1' }), octx).errors.asset).toMatch(/AssetNotQualified/);
    expect(checkOffer(offer({ asset: '2' }), octx).errors.asset).toMatch(/NotAssetOwner/);
    expect(checkOffer(offer({ asset: '3' }), octx).errors.asset).toMatch(/TooManyOffers/);
    expect(checkOffer(offer({ powerKw: '12' }), octx).errors.power).toMatch(/at most 10 kW up.*PowerOutOfRange/);
    expect(checkOffer(offer({ direction: 'Down', powerKw: '6' }), octx).errors.power).toMatch(/at most 5 kW down/);
    expect(checkOffer(offer({ divisible: true, minPowerKw: '11' }), octx).errors.minPower).toMatch(/PowerOutOfRange/);
    expect(checkOffer(offer({ priceFlex: '0' }), octx).errors.price).toMatch(/ZeroPrice/);
    expect(checkOffer(offer({ start: at(-1) }), octx).errors.start).toMatch(/InvalidWindow/);
    expect(checkOffer(offer({ asset: '2' }), { ...octx, account: 'charlie', editing: { asset: 0 } }).errors.asset).toMatch(/AssetChanged/);
  });
});

const asset = (over: Partial<AssetForm> = {}): AssetForm => ({
  kind: 'Battery', location: '1', maxExportKw: '10', maxImportKw: '10', capacityKwh: '13.5', minSocPercent: '20', device: 'modbus://127.0.0.1:5020/1', ...over,
});
const actx = { locations: [1], maxDeviceRefLen: 64, isParticipant: true };

describe('assets', () => {
  it('takes the pilot battery', () => {
    const r = checkAsset(asset(), actx);
    expect(r.value).toEqual({ kind: 'Battery', location: 1, maxExportW: 10_000, maxImportW: 10_000, capacityWh: 13_500, minSocPercent: 20, device: 'modbus://127.0.0.1:5020/1' });
  });
  it('refuses what the pallet refuses, with the reason', () => {
    expect(checkAsset(asset(), { ...actx, isParticipant: false }).errors.account).toMatch(/NotParticipant/);
    expect(checkAsset(asset({ location: '9' }), actx).errors.location).toMatch(/UnknownLocation/);
    expect(checkAsset(asset({ maxExportKw: '0', maxImportKw: '0' }), actx).errors.maxExport).toMatch(/PowerOutOfRange/);
    expect(checkAsset(asset({ minSocPercent: '101' }), actx).errors.minSoc).toMatch(/SocOutOfRange/);
    expect(checkAsset(asset({ minSocPercent: '20.5' }), actx).errors.minSoc).toMatch(/whole percentage/);
    expect(checkAsset(asset({ device: 'x'.repeat(65) }), actx).errors.device).toMatch(/64 bytes/);
  });
});
