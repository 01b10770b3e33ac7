// Signing and sending: every extrinsic of the app goes through `send`, which shows
// its progress and, when the chain refuses it, the module error's documentation.

import { signal } from '@preact/signals';
import type { SubmittableExtrinsic } from '@polkadot/api/types';
import type { DispatchError, EventRecord } from '@polkadot/types/interfaces';
import { apiSig } from './chain';
import { selected, type Account } from './accounts';

export interface TxState {
  id: number;
  label: string;
  status: 'signing' | 'sent' | 'in block' | 'done' | 'failed';
  error?: string;
  block?: string;
}

export const txs = signal<TxState[]>([]);
let nextId = 1;

function update(id: number, patch: Partial<TxState>) {
  txs.value = txs.value.map((t) => (t.id === id ? { ...t, ...patch } : t));
}

export function dismiss(id: number) {
  txs.value = txs.value.filter((t) => t.id !== id);
}

/** The words for a dispatch error: "flexMarket.OfferFirm: The offer is in the stored match …". */
export function explain(err: DispatchError): string {
  const api = apiSig.value;
  if (err.isModule && api) {
    try {
      const meta = api.registry.findMetaError(err.asModule);
      const docs = meta.docs.join(' ').trim();
      return `${meta.section}.${meta.name}: ${docs || 'no documentation'}`;
    } catch {
      /* fall through */
    }
  }
  if (err.isToken) return `Token error: ${err.asToken.type}`;
  if (err.isArithmetic) return `Arithmetic error: ${err.asArithmetic.type}`;
  return err.type ?? err.toString();
}

/** The error of an ExtrinsicFailed event among `events`, in words. */
export function failure(events: EventRecord[]): string | undefined {
  const api = apiSig.value;
  for (const { event } of events) {
    if (api?.events.system.ExtrinsicFailed.is(event)) return explain(event.data[0] as DispatchError);
    // A council or committee motion whose call failed when it was executed.
    if ((event.section === 'council' || event.section === 'technicalCommittee') && event.method === 'Executed') {
      const r = event.data[1] as any;
      if (r?.isErr) return explain(r.asErr);
    }
  }
  return undefined;
}

async function signer(account: Account) {
  if (account.source === 'dev' && account.pair) return { who: account.pair, options: {} };
  const { web3FromAddress } = await import('@polkadot/extension-dapp');
  const injector = await web3FromAddress(account.address);
  return { who: account.address, options: { signer: injector.signer } };
}

/**
 * Builds the extrinsic, signs it with the selected account and sends it; resolves with its events once it
 * is in a block and succeeded, rejects with the reason in words otherwise.
 */
export async function send(label: string, build: () => SubmittableExtrinsic<'promise'>, account = selected.value): Promise<EventRecord[]> {
  const id = nextId++;
  txs.value = [...txs.value.slice(-5), { id, label, status: 'signing' }];
  if (!account) {
    update(id, { status: 'failed', error: 'Pick an account to sign with' });
    throw new Error('Pick an account to sign with');
  }
  try {
    const tx = build();
    const { who, options } = await signer(account);
    return await new Promise<EventRecord[]>((resolve, reject) => {
      let unsub: (() => void) | undefined;
      tx.signAndSend(who as any, options, (result) => {
        const { status, events, dispatchError } = result;
        if (status.isReady || status.isBroadcast) update(id, { status: 'sent' });
        if (status.isInBlock) {
          const why = dispatchError ? explain(dispatchError) : failure(events);
          if (why) {
            update(id, { status: 'failed', error: why, block: status.asInBlock.toHex() });
            unsub?.();
            reject(new Error(why));
          } else {
            update(id, { status: 'done', block: status.asInBlock.toHex() });
            unsub?.();
            resolve(events);
            setTimeout(() => dismiss(id), 8000);
          }
        } else if (status.isDropped || status.isInvalid || status.isUsurped) {
          const why = `The transaction was ${status.type.toLowerCase()}`;
          update(id, { status: 'failed', error: why });
          unsub?.();
          reject(new Error(why));
        }
      })
        .then((u) => (unsub = u))
        .catch((e: Error) => {
          update(id, { status: 'failed', error: e.message });
          reject(e);
        });
    });
  } catch (e) {
    const msg = (e as Error).message;
    if (txs.value.find((t) => t.id === id)?.status !== 'failed') update(id, { status: 'failed', error: msg });
    throw e;
  }
}
