// A runtime upgrade through governance on a chain without sudo.
//
// The chain is the `local_testnet` preset (council Alice, Bob, Charlie; technical
// committee Dave, Eve, Ferdie; no sudo) with one validator, launched on the
// runtime of an earlier release (runtime/fixtures, spec 101, market storage
// version 2). The market is filled and one request is settled; governance
// refuses an upgrade, then passes one with `scripts/governance/upgrade.mjs` to
// the runtime just built (spec 104: market storage version 4 through the
// migrations 2 -> 3 -> 4, and no sudo pallet), and the test checks the new version, the migrations, every market
// record, and that the open request is matched and settled on the new runtime.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  connect, eventsOf, key, motion, runtimeVersion, send, upgradeRuntime,
} from '../../scripts/governance/governance.mjs';
import { freePort, stopNode } from './harness.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const target = process.env.CARGO_TARGET_DIR ?? `${homedir()}/.cache/flexchain/target`;
const nodeBin = process.env.FLEXCHAIN_NODE ?? `${target}/release/flexchain-node`;
const newWasm = `${target}/release/wbuild/flexchain-runtime/flexchain_runtime.compact.compressed.wasm`;
const oldWasm = join(repo, 'runtime', 'fixtures', 'flexchain_runtime-101.compact.compressed.wasm');
const OLD_SPEC = 101;
const NEW_SPEC = 104;
/// Market minutes per real second at the clock scale the test sets (120).
const SCALE = 120;
const MIN = 60_000;
const UNIT = 10n ** 12n;
const cents = (c) => (BigInt(c) * UNIT) / 100n;
/// twox128(":__STORAGE_VERSION__:"), after the pallet's prefix.
const STORAGE_VERSION = '4e7b9012096b41c4eb3aaf947f6ea429';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let dir;
let node;
let log = '';
let api;
let url;
const k = {};

before(async () => {
  for (const name of ['Alice', 'Bob', 'Charlie', 'Dave', 'Eve', 'Ferdie']) k[name] = key(`//${name}`);
  dir = mkdtempSync(join(tmpdir(), 'flexchain-upgrade-'));
  // The local testnet's genesis, built by the previous runtime, with Alice as the
  // only validator so that one node produces and finalizes blocks.
  const { stdout } = await promisify(execFile)(nodeBin, ['build-spec', '--chain', 'local', '--disable-default-bootnode'], {
    maxBuffer: 64 << 20,
  });
  const spec = JSON.parse(stdout);
  const genesis = spec.genesis.runtimeGenesis;
  genesis.code = `0x${readFileSync(oldWasm).toString('hex')}`;
  // Spec 101 had no session pallet: its genesis names Aura's and GRANDPA's authorities
  // directly. Alice's keys, as the new preset's session keys give them.
  const [, , alice] = genesis.patch.session.keys[0];
  delete genesis.patch.session;
  delete genesis.patch.validatorSet;
  genesis.patch.aura = { authorities: [alice.aura] };
  genesis.patch.grandpa = { authorities: [[alice.grandpa, 1]] };
  writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec));

  const [rpc, p2p] = [await freePort(), await freePort()];
  url = `ws://127.0.0.1:${rpc}`;
  node = spawn(nodeBin, [
    '--chain', join(dir, 'spec.json'), '--alice', '--force-authoring', '--base-path', join(dir, 'db'),
    '--rpc-port', rpc, '--port', p2p, '--no-prometheus', '--no-telemetry', '--no-mdns',
    // A validator needs a stable network identity; a fixed one for the test.
    '--node-key', '00'.repeat(31) + '01',
  ]);
  node.stdout.on('data', (d) => (log += d));
  node.stderr.on('data', (d) => (log += d));
  api = await connect(url).catch((e) => {
    throw new Error(`${e.message}\n${log}`);
  });
});

after(async () => {
  await api?.disconnect();
  // The database may only go once the node has closed it.
  await stopNode(node);
  if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
});

/// Market time at the chain's last block.
async function marketNow() {
  const now = (await api.query.timestamp.now()).toNumber();
  const clock = await api.query.flexMarket.clock();
  if (clock.isNone) return now;
  const c = clock.unwrap();
  return c.marketMs.toNumber() + (now - c.chainMs.toNumber()) * c.scale.toNumber();
}

/// Polls `check` every second until it returns a value other than undefined.
async function until(what, check, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${log.slice(-3000)}`);
    await sleep(1000);
  }
}

const eventOf = (events, section, name) =>
  events.find(({ event }) => api.events[section][name].is(event))?.event.data;

/// The market maps the migration to storage version 4 rewrites.
const REWRITTEN = ['requests', 'offers', 'proposals', 'contracts'];

/// The maps the migration to version 4 rewrites, decoded at `blockHash` by `api`'s
/// metadata: { map: { id: JSON } }.
async function decodedMaps(api, blockHash) {
  const at = await api.at(blockHash);
  const maps = {};
  for (const item of REWRITTEN) {
    maps[item] = {};
    for (const [key, value] of await at.query.flexMarket[item].entries()) {
      maps[item][key.args[0].toString()] = value.unwrap().toJSON();
    }
  }
  return maps;
}

/// Every key and value of the market pallet's storage at `blockHash`, without
/// the items the migrations or the per-block hooks rewrite.
async function marketRecords(blockHash) {
  const prefix = (item) => api.query.flexMarket[item].keyPrefix();
  const skipped = ['params', 'agenda', 'agendaPages', 'agendaCursor', 'bookSweep', ...REWRITTEN].map(prefix);
  // Maps the new runtime adds (absent from the old metadata).
  for (const item of ['assetOffers', 'proposedOffers', 'unclaimedPayouts']) {
    if (api.query.flexMarket[item]) skipped.push(prefix(item));
  }
  const palletPrefix = prefix('params').slice(0, 34);
  const version = `${palletPrefix}${STORAGE_VERSION}`;
  const all = new Map();
  let start;
  for (;;) {
    const keys = await api.rpc.state.getKeysPaged(palletPrefix, 1000, start, blockHash);
    if (keys.length === 0) break;
    const values = await api.rpc.state.queryStorageAt(keys, blockHash);
    keys.forEach((key, i) => all.set(key.toHex(), values[i].toHex()));
    start = keys[keys.length - 1];
    if (keys.length < 1000) break;
  }
  for (const key of [...all.keys()]) {
    if (key === version || skipped.some((p) => key.startsWith(p))) all.delete(key);
  }
  return all;
}

test('governance refuses, then passes, a runtime upgrade that keeps every market record', { timeout: 900_000 }, async () => {
  const { Alice, Bob, Charlie, Dave, Eve, Ferdie } = k;
  assert.deepEqual(await runtimeVersion(api), { specName: 'flexchain', specVersion: OLD_SPEC });
  assert.ok((await api.query.sudo.key()).isNone, 'no sudo key');
  // The calls of the path are documented for Polkadot.js Apps (pallet-whitelist's
  // own calls carry no documentation upstream).
  for (const [section, calls] of Object.entries({
    council: ['propose', 'vote', 'close'],
    technicalCommittee: ['propose', 'vote', 'close'],
    system: ['authorizeUpgrade', 'applyAuthorizedUpgrade'],
    flexMarket: ['registerDso', 'appointOracle', 'setParams', 'setClock'],
  })) {
    for (const call of calls) assert.ok(api.tx[section][call].meta.docs.length > 0, `${section}.${call} is documented`);
  }

  // --- The council runs the market: a fast clock and parameters by two thirds.
  const clock = await motion(api, 'council', api.tx.flexMarket.setClock(SCALE), { proposer: Alice, ayes: [Alice, Bob] });
  assert.equal(clock.result, 'Ok');
  const params = {
    settlementGraceMs: 20 * MIN, retentionMs: 2 * 24 * 60 * MIN,
    penaltyThreshold: 900_000_000, penaltyRate: 200_000_000,
    requestDeposit: cents(10), assetDeposit: cents(10), fspDeposit: UNIT, solutionMargin: 10_000_000,
  };
  const set = await motion(api, 'council', api.tx.flexMarket.setParams(params), { proposer: Bob, ayes: [Bob, Charlie] });
  assert.equal(set.result, 'Ok');

  // --- Two 10 kW assets of the FSP Bob, prequalified by the DSO Alice.
  const assets = [];
  for (const [kind, device] of [['Battery', 'modbus://127.0.0.1:5020/1'], ['V2gCharger', 'ocpp://CP-EFLEX-01/1']]) {
    const r = await send(api, api.tx.flexMarket.registerAsset({
      kind, location: 1, maxExportW: 10_000, maxImportW: 10_000, capacityWh: 30_000, minSocPercent: 20, device,
    }), Bob);
    assets.push(eventOf(r.events, 'flexMarket', 'AssetRegistered').asset.toNumber());
  }
  for (const a of assets) await send(api, api.tx.flexMarket.setAssetStatus(a, 'Prequalified'), Alice);

  // --- Request A, bought now and settled before the upgrade: 20 kW up for 45
  // market minutes, two 10 kW offers at 0.10 per kWh. (One block is 12 market
  // minutes at this scale.)
  const requests = {};
  const windows = {};
  async function post(name, leadMin) {
    const t = await marketNow();
    const w = { gate: t + leadMin * MIN, window: { start: t + (leadMin + 10) * MIN, end: t + (leadMin + 55) * MIN } };
    const r = await send(api, api.tx.flexMarket.createRequest({
      location: 1, window: w.window, direction: 'Up', powerW: 20_000, maxPrice: cents(21),
      gateClosure: w.gate, partial: false, pricing: 'PayAsBid',
    }), Alice);
    requests[name] = eventOf(r.events, 'flexMarket', 'RequestCreated').request.toNumber();
    windows[name] = w;
    for (const asset of assets) {
      await send(api, api.tx.flexMarket.createOffer({
        asset, window: w.window, direction: 'Up', powerW: 10_000, price: cents(10), divisibility: 'AllOrNothing',
      }), Bob);
    }
  }

  /// Matches (unless the node's solver already proposed) and buys.
  async function buy(name) {
    const id = requests[name];
    if ((await api.query.flexMarket.proposals(id)).isNone) {
      // The node's solver may have proposed in the meantime: then ours is not better.
      const matched = await send(api, api.tx.flexMarket.matchRequest(id), Alice, { allowFailure: true });
      assert.ok([undefined, 'flexMarket.NotBetter'].includes(matched.error), matched.error);
    }
    // Since spec 103 the DSO states the most it pays: the stored match's cost.
    const tx = api.tx.flexMarket.acceptMatch.meta.args.length === 2
      ? api.tx.flexMarket.acceptMatch(id, (await api.query.flexMarket.proposals(id)).unwrap().cost)
      : api.tx.flexMarket.acceptMatch(id);
    const bought = await send(api, tx, Alice);
    const accepted = eventOf(bought.events, 'flexMarket', 'MatchAccepted');
    assert.equal(accepted.powerW.toNumber(), 20_000);
    assert.equal(accepted.fills.toNumber(), 2);
  }

  /// The oracle reports the pilot's deliveries once the window started; resolves
  /// with the request once the chain settled it.
  async function deliver(name) {
    const id = requests[name];
    await until(`window of ${name}`, async () => ((await marketNow()) >= windows[name].window.start ? true : undefined));
    for (const [fill, wh] of [[0, 7_210], [1, 6_970]]) {
      await send(api, api.tx.flexMarket.reportDelivery(id, fill, wh, `0x${'11'.repeat(32)}`), Ferdie);
    }
    return until(`settlement of ${name}`, async () => {
      const r = (await api.query.flexMarket.requests(id)).unwrap();
      return r.status.isSettled ? r : undefined;
    });
  }

  await post('A', 60);
  await buy('A');
  const settledA = deliver('A');

  // --- Refusals while A runs: a non-member, too few votes, a rejected upgrade.
  await assert.rejects(
    send(api, api.tx.council.propose(2, api.tx.flexMarket.setClock(1), 100), Eve),
    /council\.NotMember/,
  );
  const early = await motion(api, 'council', api.tx.flexMarket.setClock(1), { proposer: Charlie, ayes: [Charlie] });
  assert.equal(early.outcome, 'Open');
  assert.equal(early.closeError, 'council.TooEarly');
  const code = new Uint8Array(readFileSync(newWasm));
  const rejected = await upgradeRuntime(api, code, {
    technical: [Dave, Eve], council: [Charlie], councilNays: [Alice, Bob], payer: Charlie,
  });
  assert.equal(rejected.authorized, false);
  assert.ok((await api.query.system.authorizedUpgrade()).isNone);
  const apply = await send(api, api.tx.system.applyAuthorizedUpgrade(`0x${Buffer.from(code).toString('hex')}`), Charlie, { allowFailure: true });
  assert.equal(apply.error, 'system.NothingAuthorized');
  assert.equal((await runtimeVersion(api)).specVersion, OLD_SPEC, 'the rejected upgrade left the old runtime');

  const a = await settledA;
  assert.equal(a.status.toString(), 'Settled');
  // Request B stays open across the upgrade, its gate after the upgrade's votes.
  await post('B', 180);

  // --- The upgrade, by the operators' script.
  const before = { params: (await api.query.flexMarket.params()).toJSON(), head: await api.rpc.chain.getHeader() };
  const script = await promisify(execFile)(process.execPath, [
    join(repo, 'scripts', 'governance', 'upgrade.mjs'), '--url', url, '--wasm', newWasm,
    '--council', '//Alice,//Bob', '--technical', '//Dave,//Eve',
  ], { maxBuffer: 16 << 20 }).catch((e) => assert.fail(`upgrade.mjs failed: ${e.stderr}\n${e.stdout}`));
  const out = script.stdout;
  console.log(out);
  // The committee's whitelisting from the refused attempt still stands.
  assert.match(out, /technicalCommittee: the call is already whitelisted/);
  assert.match(out, /council: motion \d+ approved and executed: Ok/);
  assert.match(out, new RegExp(`runtime version: flexchain ${OLD_SPEC} -> ${NEW_SPEC}`));
  const appliedIn = out.match(/applied in block (0x[0-9a-f]{64})/)[1];
  // The rewritten maps as the old runtime decodes them, before the migrations.
  const oldMaps = await decodedMaps(api, appliedIn);

  // CodeUpdated in the block that applied the code; the new runtime from the next.
  const events = await eventsOf(api, appliedIn);
  assert.ok(events.some(({ event }) => event.section === 'system' && event.method === 'CodeUpdated'), 'CodeUpdated');
  const applyHeader = await api.rpc.chain.getHeader(appliedIn);
  const nextHash = await api.rpc.chain.getBlockHash(applyHeader.number.toNumber() + 1);
  assert.ok(applyHeader.number.toNumber() > before.head.number.toNumber());

  // A fresh connection reads the new metadata.
  await api.disconnect();
  api = await connect(url);
  assert.deepEqual(await runtimeVersion(api), { specName: 'flexchain', specVersion: NEW_SPEC });
  // No sudo pallet any more, and its storage is gone.
  assert.equal(api.tx.sudo, undefined);
  const sudoPrefix = '0x5c0d1176a568c1f92944340dbfed9e9c';
  assert.equal((await api.rpc.state.getKeysPaged(sudoPrefix, 10, null, nextHash)).length, 0, 'Sudo storage removed');

  // The validator set, seeded from the authorities spec 101 had (Alice): in the
  // governed set, in the session with her keys, so that governance adds to it.
  const alice = k.Alice.address;
  assert.deepEqual((await api.query.validatorSet.validators.at(nextHash)).map(String), [alice]);
  assert.deepEqual((await api.query.session.validators.at(nextHash)).map(String), [alice]);
  assert.ok((await api.query.session.nextKeys.at(nextHash, alice)).isSome, 'Alice\'s session keys');

  // The migrations: storage version 4, the parameters kept, no price cap, the
  // default horizon of 7 days.
  const versionKey = `${api.query.flexMarket.params.keyPrefix().slice(0, 34)}${STORAGE_VERSION}`;
  assert.equal((await api.rpc.state.getStorage(versionKey, appliedIn)).toHex(), '0x0200');
  assert.equal((await api.rpc.state.getStorage(versionKey, nextHash)).toHex(), '0x0400');
  const migrated = (await api.query.flexMarket.params()).toJSON();
  assert.equal(migrated.priceCap, null);
  assert.equal(migrated.horizonMs, 7 * 24 * 60 * MIN);
  delete migrated.priceCap;
  delete migrated.horizonMs;
  assert.deepEqual(migrated, before.params);

  // The rewritten records say what they said, in the new layout.
  const newMaps = await decodedMaps(api, nextHash);
  assert.deepEqual(Object.keys(newMaps.requests).sort(), Object.keys(oldMaps.requests).sort());
  for (const [id, r] of Object.entries(oldMaps.requests)) {
    assert.deepEqual(newMaps.requests[id], { ...r, spec: { ...r.spec, maxOverW: 0 } }, `request ${id}`);
  }
  assert.deepEqual(Object.keys(newMaps.offers).sort(), Object.keys(oldMaps.offers).sort());
  for (const [id, o] of Object.entries(oldMaps.offers)) {
    const { deposit, ...kept } = o;
    assert.deepEqual(newMaps.offers[id], kept, `offer ${id}`);
  }
  for (const [id, c] of Object.entries(oldMaps.contracts)) {
    const { reportDeadline, ...kept } = newMaps.contracts[id];
    assert.deepEqual(kept, c, `contract ${id}`);
    const end = newMaps.requests[id].spec.window.end;
    assert.equal(reportDeadline, end + before.params.settlementGraceMs, `deadline of contract ${id}`);
  }
  for (const [id, p] of Object.entries(newMaps.proposals)) {
    assert.equal(p.scoreWPrice, oldMaps.proposals[id].cost, `proposal ${id}: the score kept`);
  }

  // Every other market record is byte for byte what it was before the migration.
  const [old, now] = [await marketRecords(appliedIn), await marketRecords(nextHash)];
  assert.ok(old.size > 10, `market records before: ${old.size}`);
  assert.deepEqual([...now.entries()], [...old.entries()]);

  // --- The request left open is matched, bought, delivered and settled on the new runtime.
  assert.equal((await api.query.flexMarket.requests(requests.B)).unwrap().status.toString(), 'Open');
  await buy('B');
  const b = await deliver('B');
  assert.equal(b.status.toString(), 'Settled');
  const contract = (await api.query.flexMarket.contracts(requests.B)).unwrap();
  assert.equal(contract.escrow.toBigInt(), 0n, 'escrow released');
  // Each FSP is paid its delivered energy at 0.10 per kWh: 7.21 + 6.97 kWh -> 1.418 FLEX.
  const fills = (await api.query.flexMarket.fills.entries(requests.B)).map(([, f]) => f.unwrap());
  const delivered = fills.map((f) => f.report.unwrap().deliveredWh.toNumber()).sort((x, y) => y - x);
  assert.deepEqual(delivered, [7_210, 6_970]);
  const paid = fills.reduce((sum, f) => sum + f.outcome.unwrap().paid.toBigInt(), 0n);
  assert.equal(paid, (14_180n * cents(10)) / 1_000n);

  // Sessions rotated on the new runtime with Alice still validating and finalizing.
  const session0 = (await api.query.session.currentIndex.at(nextHash)).toNumber();
  const deadline = Date.now() + 180_000;
  while ((await api.query.session.currentIndex()).toNumber() < session0 + 2) {
    assert.ok(Date.now() < deadline, 'two sessions rotated within 3 minutes');
    await sleep(2_000);
  }
  assert.deepEqual((await api.query.session.validators()).map(String), [alice]);
  // GRANDPA's set changed with the sessions (same key, new set id): finality follows.
  const head = (await api.rpc.chain.getHeader()).number.toNumber();
  await until('finality past the two rotations', async () =>
    (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber() >= head || undefined, 60_000);
});
