// The DSO bridge's read endpoints (/health, /samples/<asset>, /dispatches, /commands).
// Its base URL is a setting: ?bridge=…, else the last one saved, else the serving
// server's default (scripts/serve.mjs proxies /bridge to the bridge, which sends no
// CORS headers), else the bridge's default port.

import { signal } from '@preact/signals';
import * as P from './parse';
import type { BridgeCommand, BridgeDispatch, Sample } from './types';

export const bridgeBase = signal<string>('');
export const bridgeState = signal<'unknown' | 'ok' | 'unhealthy' | 'unreachable'>('unknown');
export const bridgeHealth = signal<any>(null);
/** The assets the bridge has devices for (only those have samples). */
export const bridgeAssets = signal<Set<number>>(new Set());

export function initialBridge(serverDefault?: string): string {
  const q = new URLSearchParams(location.search).get('bridge');
  return q || localStorage.getItem('flexchain.bridge') || serverDefault || 'http://127.0.0.1:9955';
}

export function setBridge(url: string) {
  bridgeBase.value = url.replace(/\/+$/, '');
  localStorage.setItem('flexchain.bridge', bridgeBase.value);
  bridgeState.value = 'unknown';
}

async function get(path: string): Promise<any> {
  const base = bridgeBase.value;
  if (!base) throw new Error('no bridge URL set');
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(), 4000);
  try {
    const res = await fetch(`${base}${path}`, { signal: ctl.signal, cache: 'no-store' });
    if (!res.ok) throw new Error(`bridge ${path}: HTTP ${res.status}`);
    const json = await res.json();
    // scripts/serve.mjs answers 200 { unreachable: true } when the bridge is down, so
    // that a stopped bridge fills no console with failed requests.
    if (json && typeof json === 'object' && !Array.isArray(json) && json.unreachable) throw new Error(json.error ?? 'bridge unreachable');
    // ... and a refusal of the bridge as { status, error, body }.
    if (json && typeof json === 'object' && !Array.isArray(json) && typeof json.status === 'number' && json.error) {
      bridgeState.value = 'ok';
      const e = new Error(json.error) as Error & { body?: unknown };
      e.body = json.body;
      throw e;
    }
    bridgeState.value = 'ok';
    return json;
  } catch (e) {
    bridgeState.value = 'unreachable';
    throw e;
  } finally {
    clearTimeout(t);
  }
}

/** /health: 200 "ok", or (503) "unhealthy" with the bridge's reasons, both shown in the header. */
export async function health() {
  try {
    bridgeHealth.value = await get('/health');
  } catch (e) {
    const body = (e as { body?: any }).body;
    if (!body || typeof body !== 'object') throw e;
    bridgeHealth.value = body;
  }
  if (bridgeHealth.value?.status === 'unhealthy') bridgeState.value = 'unhealthy';
  return bridgeHealth.value;
}

export async function samples(asset: number, from?: number, to?: number): Promise<Sample[]> {
  const q = new URLSearchParams();
  if (from !== undefined) q.set('from', String(from));
  if (to !== undefined) q.set('to', String(to));
  return P.samples(await get(`/samples/${asset}${q.size ? '?' + q : ''}`));
}

export async function dispatches(): Promise<BridgeDispatch[]> {
  return P.dispatches(await get('/dispatches'));
}

export async function commands(): Promise<BridgeCommand[]> {
  return P.commands(await get('/commands'));
}

export async function assets(): Promise<{ asset: number; kind: string; connected: boolean }[]> {
  const v = await get('/assets');
  const list: { asset: number; kind: string; connected: boolean }[] = (Array.isArray(v) ? v : []).map((a: any) => ({ asset: P.num(P.pick(a, 'asset')), kind: String(P.pick(a, 'kind') ?? ''), connected: Boolean(P.pick(a, 'connected')) }));
  const ids = new Set(list.map((a) => a.asset));
  if ([...ids].join() !== [...bridgeAssets.value].join()) bridgeAssets.value = ids;
  return list;
}

/** Samples of `asset` if the bridge has a device for it, else none (no failed request). */
export async function samplesIfKnown(asset: number, from?: number, to?: number): Promise<Sample[]> {
  if (!bridgeAssets.value.has(asset)) return [];
  return samples(asset, from, to);
}
