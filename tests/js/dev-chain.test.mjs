// @polkadot/api, the library under Polkadot.js Apps, against a fresh dev chain:
// it must read our chain, sign a balances.transferKeepAlive and market calls, and
// decode their events and errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';

const target = process.env.CARGO_TARGET_DIR ?? `${homedir()}/.cache/flexchain/target`;
const nodeBin = process.env.FLEXCHAIN_NODE ?? `${target}/release/flexchain-node`;

const freePort = () =>
  new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

let node;
let log = '';
let api;
let keyring;

before(async () => {
  const [rpc, p2p] = [await freePort(), await freePort()];
  node = spawn(nodeBin, ['--dev', '--tmp', '--rpc-port', rpc, '--port', p2p, '--no-prometheus', '--no-telemetry']);
  node.stdout.on('data', (d) => (log += d));
  node.stderr.on('data', (d) => (log += d));
  const provider = new WsProvider(`ws://127.0.0.1:${rpc}`, 500);
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
  node?.kill('SIGINT');
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
