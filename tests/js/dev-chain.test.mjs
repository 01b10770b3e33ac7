// @polkadot/api, the library under Polkadot.js Apps, against a fresh dev chain:
// it must read our chain, sign a balances.transferKeepAlive and market calls, and
// decode their events and errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { freePort, stopNode } from './harness.mjs';

const target = process.env.CARGO_TARGET_DIR ?? `${homedir()}/.cache/flexchain/target`;
const nodeBin = process.env.FLEXCHAIN_NODE ?? `${target}/release/flexchain-node`;


let node;
let log = '';
let api;
let provider;
let keyring;

before(async () => {
  const [rpc, p2p] = [await freePort(), await freePort()];
  node = spawn(nodeBin, ['--dev', '--tmp', '--rpc-port', rpc, '--port', p2p, '--no-prometheus', '--no-telemetry']);
  node.stdout.on('data', (d) => (log += d));
  node.stderr.on('data', (d) => (log += d));
  provider = new WsProvider(`ws://127.0.0.1:${rpc}`, 500);
  const deadline = Date.now() + 60_000;
  while (!provider.isConnected) {
    if (Date.now() > deadline) throw new Error(`node did not open its RPC port:\n${log}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  api = await ApiPromise.create({ provider, noInitWarn: true });
  await cryptoWaitReady();
  keyring = new Keyring({ type: 'sr25519', ss58Format: 7171 });
});

after(async () => {
  await api?.disconnect();
  await stopNode(node);
});

/// Signs and sends `tx`, resolves with the events of its block once finalized.
function submit(tx, signer) {
  return new Promise((resolve, reject) => {
    tx.signAndSend(signer, ({ status, events, dispatchError }) => {
      if (status.isFinalized) resolve({ events, dispatchError, block: status.asFinalized });
    }).catch(reject);
  });
}

test('reads the chain: name, token, address format, runtime', async () => {
  assert.equal((await api.rpc.system.chain()).toString(), 'Flexchain Development');
  assert.equal(api.runtimeVersion.specName.toString(), 'flexchain');
  assert.equal(api.registry.chainSS58, 7171);
  assert.deepEqual(api.registry.chainTokens, ['FLEX']);
  assert.deepEqual(api.registry.chainDecimals, [12]);
  const dave = keyring.addFromUri('//Dave');
  const dso = await api.query.flexMarket.dsos(dave.address);
  assert.ok(dso.isSome, 'Dave is the DSO of the dev chain');
  assert.deepEqual(dso.unwrap().locations.toJSON(), [1]);
});

test('signs a balances.transferKeepAlive and decodes its events', async () => {
  const alice = keyring.addFromUri('//Alice');
  const ferdie = keyring.addFromUri('//Ferdie');
  const before = (await api.query.system.account(ferdie.address)).data.free.toBigInt();
  const amount = 1_234_000_000_000n;
  const { events, dispatchError } = await submit(api.tx.balances.transferKeepAlive(ferdie.address, amount), alice);
  assert.equal(dispatchError, undefined);
  const transfer = events.find(({ event }) => api.events.balances.Transfer.is(event));
  assert.ok(transfer, 'a Transfer event');
  const [from, to, value] = transfer.event.data;
  assert.equal(from.toString(), alice.address);
  assert.equal(to.toString(), ferdie.address);
  assert.equal(value.toBigInt(), amount);
  const fee = events.find(({ event }) => api.events.transactionPayment.TransactionFeePaid.is(event));
  assert.ok(fee && fee.event.data[1].toBigInt() > 0n, 'a fee was paid');
  const after = (await api.query.system.account(ferdie.address)).data.free.toBigInt();
  assert.equal(after - before, amount);
});

test('drives the market: register and prequalify an asset, decode a market error', async () => {
  const bob = keyring.addFromUri('//Bob');
  const dave = keyring.addFromUri('//Dave');
  const charlie = keyring.addFromUri('//Charlie');
  assert.ok(api.tx.flexMarket.registerAsset.meta.docs.length > 0, 'calls are documented in the metadata');
  const spec = {
    kind: 'Battery',
    location: 1,
    maxExportW: 10_000,
    maxImportW: 10_000,
    capacityWh: 30_000,
    minSocPercent: 20,
    device: 'modbus://127.0.0.1:5020/1',
  };
  const registered = await submit(api.tx.flexMarket.registerAsset(spec), bob);
  assert.equal(registered.dispatchError, undefined);
  const ev = registered.events.find(({ event }) => api.events.flexMarket.AssetRegistered.is(event));
  assert.ok(ev, 'AssetRegistered');
  assert.equal(ev.event.data.owner.toString(), bob.address);
  const asset = ev.event.data.asset.toNumber();

  const refused = await submit(api.tx.flexMarket.setAssetStatus(asset, 'Prequalified'), charlie);
  assert.ok(refused.dispatchError?.isModule, 'a module error');
  const meta = api.registry.findMetaError(refused.dispatchError.asModule);
  assert.equal(`${meta.section}.${meta.name}`, 'flexMarket.NotLocationOperator');

  const ok = await submit(api.tx.flexMarket.setAssetStatus(asset, 'Prequalified'), dave);
  assert.equal(ok.dispatchError, undefined);
  const stored = await api.query.flexMarket.assets(asset);
  assert.equal(stored.unwrap().status.toString(), 'Prequalified');
  assert.equal(stored.unwrap().spec.device.toUtf8(), 'modbus://127.0.0.1:5020/1');
});

/// The request the off-chain worker matched, for the tests after it.
let workerRequest;

test("the dev node's off-chain worker submits a cheaper match than the merit order", async () => {
  const [bob, charlie, dave, solver] = ['//Bob', '//Charlie', '//Dave', '//Alice//flex'].map((u) => keyring.addFromUri(u));
  const unit = 10n ** 12n;
  const cents = (c) => (BigInt(c) * unit) / 100n;
  // Four 20 kW assets; a book where greedy takes 15 kW at 0.10 and tops up at 0.21,
  // while two 10 kW offers at 0.12 cover the 20 kW for less.
  const owners = [bob, bob, charlie, charlie];
  const assets = [];
  for (const owner of owners) {
    const r = await submit(api.tx.flexMarket.registerAsset({
      kind: 'Battery', location: 1, maxExportW: 20_000, maxImportW: 20_000,
      capacityWh: 40_000, minSocPercent: 20, device: 'sim',
    }), owner);
    assets.push(r.events.find(({ event }) => api.events.flexMarket.AssetRegistered.is(event)).event.data.asset.toNumber());
  }
  const dsoNonce = (await api.rpc.system.accountNextIndex(dave.address)).toNumber();
  await Promise.all(assets.map((a, i) =>
    submitWithNonce(api.tx.flexMarket.setAssetStatus(a, 'Prequalified'), dave, dsoNonce + i)));

  const now = Date.now();
  const window = { start: now + 6 * 60_000, end: now + 51 * 60_000 };
  const request = await submit(api.tx.flexMarket.createRequest({
    location: 1, window, direction: 'Up', powerW: 20_000, maxPrice: cents(21),
    gateClosure: now + 5 * 60_000, partial: false, pricing: 'PayAsBid', maxOverW: 0,
  }), dave);
  const id = request.events.find(({ event }) => api.events.flexMarket.RequestCreated.is(event)).event.data.request.toNumber();
  const book = [[15_000, 10, null], [10_000, 12, null], [10_000, 12, null], [20_000, 21, 1_000]];
  const nonces = {};
  for (const owner of owners) {
    nonces[owner.address] ??= (await api.rpc.system.accountNextIndex(owner.address)).toNumber();
  }
  await Promise.all(book.map(([powerW, c, min], i) => {
    const owner = owners[i];
    const nonce = nonces[owner.address]++;
    return submitWithNonce(api.tx.flexMarket.createOffer({
      asset: assets[i], window, direction: 'Up', powerW, price: cents(c),
      divisibility: min ? { Divisible: { minPowerW: min } } : 'AllOrNothing',
    }), owner, nonce);
  }));

  // The gate closes within the worker's horizon, so the worker (its own key on
  // --dev, //Alice//flex) mines at once. The merit order would take 15 kW at 0.10
  // and 5 kW at 0.21.
  const greedy = 15_000n * cents(10) + 5_000n * cents(21);
  const proposed = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no solution from the worker:\n${log.slice(-3000)}`)), 90_000);
    api.query.system.events((events) => {
      for (const { event } of events) {
        if (api.events.flexMarket.MatchProposed.is(event) && event.data.request.toNumber() === id &&
            event.data.by.toString() === solver.address) {
          clearTimeout(timer);
          resolve(event.data);
        }
      }
    });
  });
  assert.equal(proposed.coveredW.toNumber(), 20_000);
  assert.equal(proposed.scoreWPrice.toBigInt(), 20_000n * cents(12), 'two 10 kW offers at 0.12');
  assert.ok(proposed.scoreWPrice.toBigInt() < greedy, `worker ${proposed.scoreWPrice} < merit order ${greedy}`);
  // In money: 15 kWh at 0.12 FLEX, as the preview and the purchase say.
  assert.equal(proposed.cost.toBigInt(), 15n * cents(12));
  // The DSO's own merit order can no longer beat the stored match.
  const matched = await submit(api.tx.flexMarket.matchRequest(id), dave);
  const meta = api.registry.findMetaError(matched.dispatchError.asModule);
  assert.equal(meta.name, 'NotBetter');
  const preview = await provider.send('flexMarket_matchPreview', [id]);
  assert.equal(preview.source, 'stored');
  assert.deepEqual(preview.fills.map((f) => f.power_w), [10_000, 10_000]);
  assert.equal(BigInt(preview.cost), proposed.cost.toBigInt());
  workerRequest = id;
});

/// The fee a transaction paid, from its TransactionFeePaid event.
function feeOf(events) {
  const paid = events.find(({ event }) => api.events.transactionPayment.TransactionFeePaid.is(event));
  return paid.event.data.actualFee.toBigInt();
}

test('a wrong click costs what it did: a second acceptMatch is cheap', async () => {
  assert.ok(workerRequest !== undefined, 'the worker test ran first');
  const dave = keyring.addFromUri('//Dave');
  const preview = await provider.send('flexMarket_matchPreview', [workerRequest]);
  const bought = await submit(api.tx.flexMarket.acceptMatch(workerRequest, preview.cost), dave);
  assert.equal(bought.dispatchError, undefined);
  const again = await submit(api.tx.flexMarket.acceptMatch(workerRequest, preview.cost), dave);
  assert.equal(api.registry.findMetaError(again.dispatchError.asModule).name, 'AlreadyAccepted');
  console.log(`acceptMatch fees: bought ${feeOf(bought.events)} planks, refused ${feeOf(again.events)} planks`);
  // Before, a refused acceptMatch paid for a thousand fills: 0.105 FLEX.
  const before = 105n * 10n ** 9n;
  assert.ok(feeOf(again.events) * 10n < before, `a refused acceptMatch cost ${feeOf(again.events)}`);
  assert.ok(feeOf(again.events) < feeOf(bought.events), 'less than the purchase itself');
});

test('metadata: every market type documented, event fields readable in JavaScript', async () => {
  const lookup = api.registry.lookup;
  const undocumented = [];
  for (const { id, type } of api.runtimeMetadata.asLatest.lookup.types) {
    const path = type.path.map((p) => p.toString());
    if (path[0] !== 'pallet_flex_market' || path.at(-1) === 'Call') continue;
    const name = path.join('::');
    if (type.def.isComposite) {
      for (const f of type.def.asComposite.fields) {
        if (f.docs.length === 0) undocumented.push(`${name}.${f.name.unwrapOr('?')}`);
      }
    }
    if (type.def.isVariant) {
      for (const v of type.def.asVariant.variants) {
        if (v.docs.length === 0) undocumented.push(`${name}::${v.name}`);
        for (const f of v.fields) {
          if (f.name.isSome && f.docs.length === 0) undocumented.push(`${name}::${v.name}.${f.name.unwrap()}`);
        }
      }
    }
    assert.ok(lookup.getSiType(id), name);
  }
  assert.deepEqual(undocumented, [], 'fields and variants without docs');
  // Event fields are read as `event.data.<name>`: none may be an Array or Object member.
  const reserved = new Set([
    ...Object.getOwnPropertyNames(Array.prototype),
    ...Object.getOwnPropertyNames(Object.prototype),
  ]);
  const clashes = [];
  for (const [name, event] of Object.entries(api.events.flexMarket)) {
    for (const field of event.meta.fields) {
      const js = field.name.unwrap().toString().replace(/_([a-z])/g, (_, c) => c.toUpperCase());
      if (reserved.has(js)) clashes.push(`${name}.${js}`);
    }
  }
  assert.deepEqual(clashes, [], 'event fields that read as Array or Object members');
});

test("market time: flexMarket_now and the runtime API give the market's now", async () => {
  const before = Date.now();
  const rpc = await provider.send('flexMarket_now', []);
  const api2 = (await api.call.flexMarketApi.marketNow()).toNumber();
  // The dev chain runs at scale 1: market time is the last block's timestamp.
  const stamp = (await api.query.timestamp.now()).toNumber();
  assert.equal(typeof rpc, 'number');
  assert.ok(Math.abs(rpc - stamp) <= 6_000 && Math.abs(api2 - stamp) <= 6_000, `${rpc} ${api2} ${stamp}`);
  assert.ok(Math.abs(rpc - before) < 30_000, `market now ${rpc} vs wall clock ${before}`);
});

/// Signs with an explicit nonce and resolves once the transaction is in a block.
function submitWithNonce(tx, signer, nonce) {
  return new Promise((resolve, reject) => {
    tx.signAndSend(signer, { nonce }, ({ status, dispatchError }) => {
      if (dispatchError) reject(new Error(dispatchError.toString()));
      else if (status.isInBlock) resolve();
    }).catch(reject);
  });
}
