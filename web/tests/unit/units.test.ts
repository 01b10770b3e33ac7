import { describe, expect, it } from 'vitest';
import {
  PLANKS_PER_FLEX,
  costPlanks,
  energyWh,
  flexToPlanks,
  formatFixed,
  kwToW,
  kwhToWh,
  localInputToMs,
  msToLocalInput,
  parseFixed,
  planksToFlex,
  wToKw,
  whToKwh,
  ppbToPercent,
  maxCostPlanks,
} from '../../src/lib/units';

describe('FLEX and planks', () => {
  it('1 FLEX is 10^12 planks', () => {
    expect(PLANKS_PER_FLEX).toBe(1_000_000_000_000n);
    expect(flexToPlanks('1')).toBe(PLANKS_PER_FLEX);
  });
  it('converts the pilot prices exactly', () => {
    expect(flexToPlanks('0.21')).toBe(210_000_000_000n);
    expect(flexToPlanks('0.10')).toBe(100_000_000_000n);
    expect(flexToPlanks('.1')).toBe(100_000_000_000n);
    expect(flexToPlanks('0.000000000001')).toBe(1n);
  });
  it('keeps amounts no float can hold', () => {
    const big = '18446744073709551615.123456789012';
    const planks = flexToPlanks(big);
    expect(planks).toBe(18_446_744_073_709_551_615_123_456_789_012n);
    expect(formatFixed(planks, 12)).toBe(big);
    // 0.1 + 0.2 in floats is 0.30000000000000004; here it is exact.
    expect(planksToFlex(flexToPlanks('0.1') + flexToPlanks('0.2'))).toBe('0.3');
  });
  it('refuses what is not an amount, or finer than a plank', () => {
    expect(() => flexToPlanks('')).toThrow(/empty/);
    expect(() => flexToPlanks('-1')).toThrow(/number/);
    expect(() => flexToPlanks('1e3')).toThrow(/number/);
    expect(() => flexToPlanks('1.2.3')).toThrow(/number/);
    expect(() => flexToPlanks('0.0000000000001')).toThrow(/at most 12 decimals/);
    expect(flexToPlanks('0.1000000000000')).toBe(100_000_000_000n);
  });
  it('formats planks as FLEX, rounded half up for display', () => {
    expect(planksToFlex(721_000_000_000n)).toBe('0.721');
    expect(planksToFlex(1_418_000_000_000n, 3)).toBe('1.418');
    expect(planksToFlex(1_234_567_500_000_000n, 6)).toBe('1,234.5675');
    expect(planksToFlex(999_999_500_000n, 6)).toBe('1');
    expect(planksToFlex(0n)).toBe('0');
    expect(formatFixed(5n, 3, { minFraction: 2 })).toBe('0.005');
    expect(formatFixed(5000n, 3, { minFraction: 2 })).toBe('5.00');
  });
});

describe('power and energy', () => {
  it('kW ↔ W and kWh ↔ Wh exactly', () => {
    expect(kwToW('20')).toBe(20_000n);
    expect(kwToW('10.5')).toBe(10_500n);
    expect(kwToW('0.001')).toBe(1n);
    expect(() => kwToW('0.0005')).toThrow(/at most 3 decimals/);
    expect(kwhToWh('13.5')).toBe(13_500n);
    expect(wToKw(10_000)).toBe('10');
    expect(wToKw(10_500)).toBe('10.5');
    expect(whToKwh(7_209)).toBe('7.209');
    expect(whToKwh(7_209, 2)).toBe('7.21');
    expect(whToKwh(6_970, 2)).toBe('6.97');
  });
  it('contracted energy and cost as the pallet computes them', () => {
    // 10 kW for 45 minutes: 7.5 kWh; at 0.10 FLEX per kWh: 0.75 FLEX.
    const wh = energyWh(10_000, 45 * 60_000);
    expect(wh).toBe(7_500n);
    expect(costPlanks(wh, flexToPlanks('0.10'))).toBe(750_000_000_000n);
    // Rounded down, as Window::energy_wh.
    expect(energyWh(1, 60_000)).toBe(0n);
    expect(maxCostPlanks(20_000, 45 * 60_000, flexToPlanks('0.21'))).toBe(3_150_000_000_000n);
  });
  it('perbill as a percentage', () => {
    expect(ppbToPercent(961_000_000)).toBe('96.1 %');
    expect(ppbToPercent(1_000_000_000)).toBe('100 %');
  });
});

describe('local date and time', () => {
  it('round-trips datetime-local values to Unix ms', () => {
    const ms = localInputToMs('2026-05-04T16:00');
    expect(new Date(ms).getHours()).toBe(16);
    expect(msToLocalInput(ms)).toBe('2026-05-04T16:00');
    expect(localInputToMs('2026-05-04T16:45') - ms).toBe(45 * 60_000);
    expect(ms % 60_000).toBe(0);
  });
  it('refuses what is not a date', () => {
    expect(() => localInputToMs('')).toThrow(/date and time/);
    expect(() => localInputToMs('2026-02-30T10:00')).toThrow(/real date/);
  });
  it('reads and writes in the given time zone', () => {
    // The test runs with TZ=Europe/Istanbul (UTC+3, see vitest setup in package.json).
    expect(parseFixed('3', 0)).toBe(3n);
    const ms = Date.UTC(2026, 4, 4, 13, 0);
    if (process.env.TZ === 'Europe/Istanbul') expect(msToLocalInput(ms)).toBe('2026-05-04T16:00');
  });
});
