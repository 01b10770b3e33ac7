// The connection to a node: one ApiPromise over a WsProvider that reconnects on its
// own, and signals the views read (connection state, best block, market time).

import { ApiPromise, WsProvider } from '@polkadot/api';
import { signal, computed, batch } from '@preact/signals';
import * as P from './parse';
import type { MarketClock } from './types';

export type ConnState = 'connecting' | 'connected' | 'disconnected';

export const endpoint = signal<string>('');
export const conn = signal<ConnState>('connecting');
export const apiSig = signal<ApiPromise | null>(null);
/** Best block number; bumps on every new block (views re-read then). */
export const best = signal<number>(0);
export const finalized = signal<number>(0);
export const chainName = signal<string>('');
export const isDev = signal<boolean>(false);
export const ss58 = signal<number>(42);
export const runtime = signal<{ specName: string; specVersion: number; implVersion: number; transactionVersion: number } | null>(null);
/** The market clock (flexMarket.clock) at the best block. */
export const clock = signal<MarketClock | null>(null);
/** Market time at the best block (flexMarket_now), and when it was read (performance.now()). */
const marketAt = signal<{ ms: number; at: number } | null>(null);
/** Ticks every second so that the displayed market time moves between blocks. */
const tick = signal(0);
setInterval(() => (tick.value = tick.value + 1), 1000);

/**
 * Market time now, Unix ms: the chain's flexMarket_now at the best block, moved on by
 * the clock's scale since it was read. Never the browser's clock.
 */
export const marketNow = computed<number | null>(() => {
  void tick.value;
  const m = marketAt.value;
  if (!m) return null;
  const scale = clock.value?.scale ?? 1;
  return Math.round(m.ms + (performance.now() - m.at) * scale);
});

/** Market time the chain will see in the block after next: what forms check against. */
export function marketSoon(): number | null {
  const now = marketNow.value;
  if (now == null) return null;
  const blockMs = blockTimeMs();
  return now + 2 * blockMs * (clock.value?.scale ?? 1);
}

export function blockTimeMs(): number {
  const api = apiSig.value;
  try {
    const c = (api?.consts as any)?.aura?.slotDuration ?? (api?.consts as any)?.babe?.expectedBlockTime;
    if (c) return Number(c.toString());
  } catch {
    /* fall through */
  }
  return 6000;
}

let current: { api: ApiPromise; provider: WsProvider; unsubs: (() => void)[] } | null = null;

/** Calls a flexMarket_* (or any) RPC method that the node has but the API has no types for. */
export async function rpc<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
  if (!current || !apiSig.value) throw new Error('not connected');
  return (await current.provider.send(method, params)) as T;
}

async function onBlock(api: ApiPromise, provider: WsProvider, number: number) {
  try {
    const [now, c] = await Promise.all([
      provider.send('flexMarket_now', []).catch(() => null),
      api.query.flexMarket.clock(),
    ]);
    const parsed = P.clock((c as any).isSome ? (c as any).unwrap().toJSON() : null);
    let ms: number;
    if (now != null) ms = Number(now);
    else ms = P.marketOf(parsed, Number((await api.query.timestamp.now()).toString()));
    batch(() => {
      clock.value = parsed;
      marketAt.value = { ms, at: performance.now() };
      best.value = number;
    });
  } catch (e) {
    if (conn.value === 'connected') console.warn('reading the block failed', e);
  }
}

/** Connects to `url`, dropping any earlier connection. */
export async function connect(url: string) {
  if (current) {
    const old = current;
    current = null;
    old.unsubs.forEach((u) => u());
    await old.api.disconnect().catch(() => {});
  }
  endpoint.value = url;
  conn.value = 'connecting';
  apiSig.value = null;
  const provider = new WsProvider(url, 1000, {}, 30_000);
  const api = new ApiPromise({ provider, noInitWarn: true, throwOnConnect: false });
  const me = { api, provider, unsubs: [] as (() => void)[] };
  current = me;
  provider.on('disconnected', () => {
    if (current === me) conn.value = 'disconnected';
  });
  provider.on('connected', () => {
    if (current === me && apiSig.value) conn.value = 'connected';
  });
  provider.on('error', () => {
    if (current === me && conn.value === 'connected') conn.value = 'disconnected';
  });
  api.on('ready', async () => {
    if (current !== me) return;
    try {
      const [chain, type] = await Promise.all([api.rpc.system.chain(), api.rpc.system.chainType()]);
      batch(() => {
        chainName.value = chain.toString();
        isDev.value = type.isDevelopment || type.isLocal || /dev|local/i.test(chain.toString());
        ss58.value = api.registry.chainSS58 ?? 42;
        apiSig.value = api;
        conn.value = 'connected';
      });
      if (me.unsubs.length === 0) {
        me.unsubs.push(await api.rpc.chain.subscribeNewHeads((h) => {
          void onBlock(api, provider, h.number.toNumber());
        }));
        me.unsubs.push(await api.rpc.chain.subscribeFinalizedHeads((h) => {
          finalized.value = h.number.toNumber();
        }));
        me.unsubs.push(
          await api.rpc.state.subscribeRuntimeVersion((v) => {
            runtime.value = {
              specName: v.specName.toString(),
              specVersion: v.specVersion.toNumber(),
              implVersion: v.implVersion.toNumber(),
              transactionVersion: v.transactionVersion.toNumber(),
            };
          }),
        );
      }
    } catch (e) {
      console.warn('reading the chain failed', e);
    }
  });
  api.on('error', () => {});
}

/** The node URL: ?rpc=…, else the last one used, else the server's default, else the local node. */
export function initialEndpoint(serverDefault?: string): string {
  const q = new URLSearchParams(location.search).get('rpc');
  return q || localStorage.getItem('flexchain.rpc') || serverDefault || 'ws://127.0.0.1:9944';
}
