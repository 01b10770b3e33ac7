// Fills a dev chain with a grid's worth of market records, the state the storage
// benchmark measures: `count` prequalified assets at location 1, each with one
// open offer (half up, half down), owned by 16 FSPs.
//
//   node fill.mjs ws://127.0.0.1:9944 [count]
import { connect, presign, submitAll, FLEX } from './load.mjs';

const url = process.argv[2] ?? 'ws://127.0.0.1:9944';
const count = Number(process.argv[3] ?? 20_000);
const OWNERS = 16;

const { api, keyring } = await connect(url);
const alice = keyring.addFromUri('//Alice');
const dso = keyring.addFromUri('//Dave');
const owners = Array.from({ length: OWNERS }, (_, i) => keyring.addFromUri(`//Fill${i}`));
const report = (r) => {
  console.error(`[fill] ${r.name}: ${r.included}/${r.submitted} in ${r.blocks} blocks, ${r.seconds.toFixed(1)} s`);
  if (r.included !== r.submitted) throw new Error(`${r.name}: not all included`);
};

const params = await api.query.flexMarket.params();
const perOwner = BigInt(Math.ceil(count / OWNERS)) * params.assetDeposit.toBigInt() + 1_000n * FLEX;
report(await submitAll(api, 'transferKeepAlive', await presign(api, OWNERS, () => alice, (i) =>
  api.tx.balances.transferKeepAlive(owners[i].address, perOwner))));
report(await submitAll(api, 'registerFsp', await presign(api, OWNERS, (i) => owners[i], () =>
  api.tx.flexMarket.registerFsp())));

const first = (await api.query.flexMarket.nextAssetId()).toNumber();
report(await submitAll(api, 'registerAsset', await presign(api, count, (i) => owners[i % OWNERS], (i) =>
  api.tx.flexMarket.registerAsset({
    kind: i % 2 ? 'V2gCharger' : 'Battery', location: 1, maxExportW: 10_000, maxImportW: 10_000,
    capacityWh: 30_000 + i, minSocPercent: 20, device: `fill-${i}`,
  }))));
const ids = Array.from({ length: count }, (_, i) => first + i);
report(await submitAll(api, 'setAssetStatus', await presign(api, count, () => dso, (i) =>
  api.tx.flexMarket.setAssetStatus(ids[i], 'Prequalified'))));

// Who owns which id: registrations were included in the pool's order, not ours.
const owner = new Map();
for (let i = 0; i < count; i += 1_000) {
  const chunk = ids.slice(i, i + 1_000);
  (await api.query.flexMarket.assets.multi(chunk)).forEach((a, k) => owner.set(chunk[k], a.unwrap().owner.toString()));
}
const byAddress = new Map(owners.map((o) => [o.address, o]));
const now = Date.now();
const hour = 3_600_000;
report(await submitAll(api, 'createOffer', await presign(api, count, (i) => byAddress.get(owner.get(ids[i])), (i) =>
  api.tx.flexMarket.createOffer({
    asset: ids[i], window: { start: now + 2 * hour, end: now + 3 * hour }, direction: i % 2 ? 'Down' : 'Up',
    powerW: 5_000, price: 100_000_000_000n + BigInt(i), divisibility: 'AllOrNothing',
  }))));
console.error(`[fill] done at block #${(await api.rpc.chain.getHeader()).number.toNumber()}`);
await api.disconnect();
process.exit(0);
