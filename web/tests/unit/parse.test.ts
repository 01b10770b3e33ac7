import { describe, expect, it } from 'vitest';
import * as P from '../../src/lib/parse';

describe('the RPC JSON, in either form', () => {
  const untyped = {
    id: 0, dso: '5Dso', location: 1, window: { start_ms: 1000, end_ms: 2000, duration_ms: 1000 },
    direction: 'Up', power_w: 20000, max_price_per_kwh: '210000000000', gate_closure_ms: 900,
    partial: false, pricing: 'PayAsBid', max_over_w: 0, status: 'Open', deposit: '100000000000',
  };
  const typed = { ...untyped, direction: 'up', pricing: 'pay_as_bid', status: 'open', max_price_per_kwh: 210000000000 };
  it('reads open requests with snake_case or Debug enums, amounts as strings or numbers', () => {
    for (const v of [untyped, typed]) {
      const [r] = P.openRequests([v]);
      expect(r.spec.direction).toBe('Up');
      expect(r.spec.pricing).toBe('PayAsBid');
      expect(r.status).toBe('Open');
      expect(r.spec.maxPrice).toBe(210_000_000_000n);
      expect(r.spec.window).toEqual({ start: 1000, end: 2000 });
    }
  });
  it('keeps amounts above 2^53 exact', () => {
    expect(P.big('18446744073709551615000')).toBe(18_446_744_073_709_551_615_000n);
    expect(P.big('0x0000000000000000000000e8d4a51000')).toBe(1_000_000_000_000n);
    expect(() => P.big(2 ** 60)).toThrow(/not exact/);
  });
  it('reads a settlement with reports and outcomes', () => {
    const s = P.settlement({
      request: untyped, power_w: 20000, contracted_wh: 15000, cost: '1500000000000', escrow: '0',
      accepted_at_ms: 5, report_deadline_ms: 9, reported_fills: 2,
      fills: [{ fill: 0, offer: 0, asset: 0, fsp: 'bob', power_w: 10000, price_per_kwh: '100000000000', contracted_wh: 7500, cost: '750000000000',
        report: { delivered_wh: 7209, samples_root: '0x00', reported_at_ms: 8 },
        outcome: { delivery_rate_ppb: 961200000, paid: '720900000000', penalty: '0', refunded: '29100000000' } }],
    })!;
    expect(s.fills[0].report?.deliveredWh).toBe(7209);
    expect(s.fills[0].outcome?.paid).toBe(720_900_000_000n);
    expect(P.fillView({ fill_index: 3 }, 0).index).toBe(3);
  });
  it('reads offers from storage codec JSON and from the RPC', () => {
    const stored = P.offer(4, { fsp: 'bob', location: 1, spec: { asset: 0, window: { start: 1, end: 2 }, direction: 'Up', powerW: 10000, price: '0x0000000000000000000000174876e800', divisibility: { divisible: { minPowerW: 2000 } } }, status: { matched: 3 } });
    expect(stored.spec.price).toBe(100_000_000_000n);
    expect(stored.spec.divisibility).toEqual({ divisible: 2000 });
    expect(stored.status).toBe('Matched');
    expect(stored.matchedTo).toBe(3);
    const rpc = P.eligibleOffers([{ id: 5, fsp: 'c', asset: 1, location: 1, window: { start_ms: 1, end_ms: 2 }, direction: 'Up', power_w: 10000, min_power_w: 10000, price_per_kwh: '1', status: 'Open' }]);
    expect(rpc[0].spec.divisibility).toBe('AllOrNothing');
  });
  it('reads the bridge: samples and dispatches', () => {
    const s = P.samples([{ at_ms: 60000, exported_wh: 10, imported_wh: 0, power_w: 10000, soc_permille: 734 }, { at_ms: 120000, exported_wh: 177, imported_wh: 0, power_w: 0, soc_permille: null }]);
    expect(s[0].socPermille).toBe(734);
    expect(P.minutePower(s)[1].powerW).toBe(10020);
    const d = P.dispatches({ dispatches: [{ fill: { request: 0, fill: 1, asset: 1, start_ms: 1, end_ms: 2, power_w: 10000, direction: 'up' }, stage: 'Running', stop: null, delivered_wh: null }], reports: [] });
    expect(d[0]).toMatchObject({ fill: 1, asset: 1, direction: 'Up', stage: 'Running' });
  });
  it('market time from the clock', () => {
    expect(P.marketOf({ chainMs: 1000, marketMs: 5000, scale: 15 }, 2000)).toBe(20000);
    expect(P.marketOf(null, 7)).toBe(7);
  });
});
