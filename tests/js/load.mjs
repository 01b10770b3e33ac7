// Load generation shared by the flood benchmark and the state filler: funded
// senders, pre-signed extrinsics with explicit nonces, and submitting a batch
// while counting its extrinsics in new blocks.
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';

export const FLEX = 10n ** 12n;

/** Connects to `url` and returns the API with an sr25519 keyring of our address format. */
export async function connect(url) {
  const api = await ApiPromise.create({ provider: new WsProvider(url), noInitWarn: true });
  await cryptoWaitReady();
  return { api, keyring: new Keyring({ type: 'sr25519', ss58Format: 7171 }) };
}

/** Signs and sends `tx`; resolves once it is in a block, rejects on a dispatch error. */
export function included(tx, signer) {
  return new Promise((resolve, reject) => {
    tx.signAndSend(signer, ({ status, dispatchError }) => {
      if (dispatchError) reject(new Error(dispatchError.toString()));
      else if (status.isInBlock) resolve();
    }).catch(reject);
  });
}

/** Gives each of `accounts` `amount` from `funder` unless it already has half of it. */
export async function fund(api, funder, accounts, amount) {
  for (const a of accounts) {
    const free = (await api.query.system.account(a.address)).data.free.toBigInt();
    if (free < amount / 2n) await included(api.tx.balances.transferKeepAlive(a.address, amount), funder);
  }
}

/**
 * Signs `count` extrinsics `make(i)` for `signerOf(i)`, immortal, with consecutive
 * nonces per signer from the pool's next index.
 */
export async function presign(api, count, signerOf, make) {
  const next = new Map();
  const txs = [];
  for (let i = 0; i < count; i++) {
    const signer = signerOf(i);
    if (!next.has(signer.address)) {
      next.set(signer.address, (await api.rpc.system.accountNextIndex(signer.address)).toNumber());
    }
    const nonce = next.get(signer.address);
    next.set(signer.address, nonce + 1);
    const tx = make(i);
    await tx.signAsync(signer, { nonce, era: 0 });
    txs.push(tx);
  }
  return txs;
}

/**
 * Submits all of `txs` at once and waits (at most `timeoutMs`) until every one is
 * in a block. Returns how many were included, in how many blocks, how long from
 * the first submission to the block with the last one (and that rate), the most
 * in one block, and the rate of the blocks between the first and the last one.
 */
export async function submitAll(api, name, txs, timeoutMs = 600_000) {
  const hashes = new Set(txs.map((t) => t.hash.toHex()));
  let seen = 0;
  const blocks = [];
  const started = Date.now();
  let unsub;
  const done = new Promise((resolve) => {
    api.rpc.chain
      .subscribeNewHeads(async (header) => {
        const block = await api.rpc.chain.getBlock(header.hash);
        const ours = block.block.extrinsics.filter((x) => hashes.has(x.hash.toHex())).length;
        if (ours > 0) {
          seen += ours;
          blocks.push({ number: header.number.toNumber(), ours, at: Date.now() });
        }
        if (seen >= txs.length) resolve();
      })
      .then((u) => (unsub = u));
  });
  for (const tx of txs) api.rpc.author.submitExtrinsic(tx).catch((e) => console.error(`[${name}] ${e.message}`));
  let timer;
  await Promise.race([done, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
  clearTimeout(timer);
  unsub?.();
  const seconds = ((blocks.at(-1)?.at ?? Date.now()) - started) / 1000;
  // While the pool holds a backlog the chain includes them as fast as it can: the
  // blocks between the first and the last (both partly filled) show that rate.
  const inner = blocks.slice(1, -1);
  const slotSeconds = api.consts.aura.slotDuration.toNumber() / 1000;
  return {
    name,
    submitted: txs.length,
    included: seen,
    blocks: blocks.length,
    seconds,
    rate: seen / seconds,
    perBlock: Math.max(...blocks.map((b) => b.ours), 0),
    saturated: inner.length ? inner.reduce((n, b) => n + b.ours, 0) / (inner.length * slotSeconds) : undefined,
  };
}
