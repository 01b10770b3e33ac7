// Throughput of market calls against plain transfers on one dev node: floods the
// pool with signed `flexMarket.createOffer` extrinsics, then with
// `balances.transferKeepAlive`, and prints the inclusion rate of each and their
// ratio, beside the weight each is charged and how many fit in one block by weight.
// The saturated rate counts the blocks between the first and the last of a flood,
// built while the pool held a backlog; it needs a flood of at least three blocks.
//
//   node flood.mjs ws://127.0.0.1:9944 [count]
import { connect, fund, included, presign, submitAll, FLEX } from './load.mjs';

const url = process.argv[2] ?? 'ws://127.0.0.1:9944';
const count = Number(process.argv[3] ?? 16_000);
const SENDERS = 8;

const { api, keyring } = await connect(url);
const alice = keyring.addFromUri('//Alice');
const dso = keyring.addFromUri('//Dave');
const senders = Array.from({ length: SENDERS }, (_, i) => keyring.addFromUri(`//Flood${i}`));

// Setup: fund the senders, make each an FSP with a prequalified asset at location 1.
console.error(`[flood] setting up ${SENDERS} senders`);
await fund(api, alice, senders, 10_000n * FLEX);
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
const offer = (i) => api.tx.flexMarket.createOffer({
  asset: assets[i % SENDERS], window, direction: 'Up', powerW: 1_000 + (i % 9_000), price: 100_000_000_000n + BigInt(i),
  divisibility: { Divisible: { minPowerW: 500 } },
});
const transfer = (i) => api.tx.balances.transferKeepAlive(alice.address, 1_000_000_000n + BigInt(i));
const senderOf = (i) => senders[i % SENDERS];

// What the block builder charges each: the call and its extensions, plus the base
// weight of an extrinsic; the normal class may fill `maxTotal` of a block.
const normal = api.consts.system.blockWeights.perClass.normal;
const blockLimit = normal.maxTotal.unwrap().refTime.toBigInt();
async function charged(tx) {
  const info = await tx.paymentInfo(senders[0]);
  const weight = info.weight.refTime.toBigInt() + normal.baseExtrinsic.refTime.toBigInt();
  return { us: Number(weight) / 1e6, fit: Number(blockLimit / weight) };
}
const weights = [await charged(offer(0)), await charged(transfer(0))];

console.error(`[flood] signing ${count} offers and ${count} transfers`);
const offerRun = await submitAll(api, 'flexMarket.createOffer', await presign(api, count, senderOf, offer), 300_000);
const transferRun = await submitAll(api, 'balances.transferKeepAlive', await presign(api, count, senderOf, transfer), 300_000);

console.log('| extrinsic | submitted | included | blocks | seconds | end-to-end (tx/s) | saturated (tx/s) | most in one block | weight (µs) | fit in a block by weight |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
[offerRun, transferRun].forEach((r, k) => {
  console.log(`| ${r.name} | ${r.submitted} | ${r.included} | ${r.blocks} | ${r.seconds.toFixed(1)} | ${r.rate.toFixed(1)} | ` +
    `${r.saturated?.toFixed(1) ?? '-'} | ${r.perBlock} | ${weights[k].us.toFixed(1)} | ${weights[k].fit} |`);
});
const ratio = (a, b) => (a && b ? (a / b).toFixed(2) : '-');
console.log(`\nratio offers/transfers: ${ratio(offerRun.saturated, transferRun.saturated)} saturated, ` +
  `${ratio(offerRun.rate, transferRun.rate)} end-to-end, ${ratio(weights[0].fit, weights[1].fit)} by weight (target >= 0.80)`);
await api.disconnect();
process.exit(offerRun.included === count && transferRun.included === count ? 0 : 1);
