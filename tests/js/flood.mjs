// Throughput of market calls against plain transfers on one dev node: floods the
// pool with signed `flexMarket.createOffer` extrinsics, then with
// `balances.transferKeepAlive`, and prints the inclusion rate of each and their ratio.
//
//   node flood.mjs ws://127.0.0.1:9944 [count]
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';

const url = process.argv[2] ?? 'ws://127.0.0.1:9944';
const count = Number(process.argv[3] ?? 4000);
const SENDERS = 8;

const api = await ApiPromise.create({ provider: new WsProvider(url), noInitWarn: true });
await cryptoWaitReady();
const keyring = new Keyring({ type: 'sr25519', ss58Format: 7171 });
const alice = keyring.addFromUri('//Alice');
const dso = keyring.addFromUri('//Dave');
const senders = Array.from({ length: SENDERS }, (_, i) => keyring.addFromUri(`//Flood${i}`));

/// Signs and sends `tx`; resolves once it is in a block, rejects on a dispatch error.
function included(tx, signer) {
  return new Promise((resolve, reject) => {
    tx.signAndSend(signer, ({ status, dispatchError }) => {
      if (dispatchError) reject(new Error(dispatchError.toString()));
      else if (status.isInBlock) resolve();
    }).catch(reject);
  });
}

// Setup: fund the senders, make each an FSP with a prequalified asset at location 1.
console.error(`[flood] setting up ${SENDERS} senders`);
for (const s of senders) {
  const free = (await api.query.system.account(s.address)).data.free.toBigInt();
  if (free < 1_000n * 10n ** 12n) {
    await included(api.tx.balances.transferKeepAlive(s.address, 10_000n * 10n ** 12n), alice);
  }
}
const assets = [];
for (const s of senders) {
  if ((await api.query.flexMarket.fsps(s.address)).isNone) await included(api.tx.flexMarket.registerFsp(), s);
  const id = (await api.query.flexMarket.nextAssetId()).toNumber();
  await included(api.tx.flexMarket.registerAsset({
    kind: 'Battery', location: 1, maxExportW: 10_000, maxImportW: 10_000,
    capacityWh: 30_000, minSocPercent: 20, device: `flood-${s.address.slice(0, 8)}`,
  }), s);
  await included(api.tx.flexMarket.setAssetStatus(id, 'Prequalified'), dso);
  assets.push(id);
}

const now = Date.now();
const hour = 3_600_000;
const window = { start: now + 2 * hour, end: now + 3 * hour };

async function presign(make) {
  const txs = [];
  const nonces = await Promise.all(senders.map((s) => api.rpc.system.accountNextIndex(s.address)));
  for (let i = 0; i < count; i++) {
    const k = i % SENDERS;
    const tx = make(i, k);
    await tx.signAsync(senders[k], { nonce: nonces[k].toNumber() + Math.floor(i / SENDERS), era: 0 });
    txs.push(tx);
  }
  return txs;
}

async function flood(name, txs) {
  const hashes = new Set(txs.map((t) => t.hash.toHex()));
  let seen = 0;
  const blocks = [];
  const started = Date.now();
  const done = new Promise(async (resolve) => {
    const unsub = await api.rpc.chain.subscribeNewHeads(async (header) => {
      const block = await api.rpc.chain.getBlock(header.hash);
      const ours = block.block.extrinsics.filter((x) => hashes.has(x.hash.toHex())).length;
      if (ours > 0) {
        seen += ours;
        blocks.push({ number: header.number.toNumber(), ours, at: Date.now() });
      }
      if (seen >= txs.length) { unsub(); resolve(); }
    });
  });
  for (const tx of txs) api.rpc.author.submitExtrinsic(tx).catch((e) => console.error(`[flood] ${name}: ${e.message}`));
  await Promise.race([done, new Promise((r) => setTimeout(r, 300_000))]);
  const seconds = (blocks.at(-1)?.at ?? Date.now()) - started;
  return { name, submitted: txs.length, included: seen, blocks: blocks.length, seconds: seconds / 1000, rate: seen / (seconds / 1000), perBlock: Math.max(...blocks.map((b) => b.ours), 0) };
}

console.error(`[flood] signing ${count} offers and ${count} transfers`);
const offers = await presign((i, k) => api.tx.flexMarket.createOffer({
  asset: assets[k], window, direction: 'Up', powerW: 1_000 + (i % 9_000), price: 100_000_000_000n + BigInt(i),
  divisibility: { Divisible: { minPowerW: 500 } },
}));
const offerRun = await flood('flexMarket.createOffer', offers);
const transfers = await presign((i) => api.tx.balances.transferKeepAlive(alice.address, 1_000_000_000n + BigInt(i)));
const transferRun = await flood('balances.transferKeepAlive', transfers);

console.log('| extrinsic | submitted | included | blocks | seconds | rate (tx/s) | most in one block |');
console.log('|---|---|---|---|---|---|---|');
for (const r of [offerRun, transferRun]) {
  console.log(`| ${r.name} | ${r.submitted} | ${r.included} | ${r.blocks} | ${r.seconds.toFixed(1)} | ${r.rate.toFixed(1)} | ${r.perBlock} |`);
}
console.log(`\nratio offers/transfers: ${(offerRun.rate / transferRun.rate).toFixed(2)} (target >= 0.80)`);
await api.disconnect();
process.exit(offerRun.included === count && transferRun.included === count ? 0 : 1);
