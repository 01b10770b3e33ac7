// The network of validators run by the market's parties (scripts/testnet.sh): four
// validators (the DSO, two aggregators, the regulator) and an RPC node, real node
// processes from a raw chain spec with no development key, and the faults they must
// survive, one network for all tests, in order:
//
// 1. all four: blocks are produced and finalized; a call sent to the RPC node (which
//    holds no key) lands in a block authored by a validator;
// 2. one validator stopped: blocks are still produced and finalized, and a market call
//    submitted to another node is included and finalized;
// 3. two of four stopped: finality stalls; one started again from its base path:
//    finality resumes and catches up, and the restarted validator catches up to the
//    network's finalized block;
// 4. governance: the DSO alone cannot add a validator; a council motion adds a new
//    aggregator's validator, which produces blocks in a later session, and another
//    motion removes it, after which it produces none.
//
// Block and finality times (all four, one down) and the catch-up time are printed as
// the test's diagnostics.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { connect, key, motion, send } from '../../scripts/governance/governance.mjs';
import { freePorts, stopNode } from './harness.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const target = process.env.CARGO_TARGET_DIR ?? `${homedir()}/.cache/flexchain/target`;
const nodeBin = process.env.FLEXCHAIN_NODE ?? `${target}/release/flexchain-node`;
const script = join(repo, 'scripts', 'testnet.sh');
const VALIDATORS = ['dso', 'aggregator-a', 'aggregator-b', 'regulator'];
const CHAIN_ID = 'flexchain_testnet';
const UNIT = 10n ** 12n;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const exec = promisify(execFile);

let dir;
let rpcPort;
let p2pPort;
const api = {};
const acct = {};
let newcomer; // the new aggregator's public keys (validator-keys.sh --json)
let newcomerNode;
let regulatorDown; // [best block, time] when the regulator was stopped
const figures = [];

/** Stops a node (its client first, so that it does not retry meanwhile). */
async function stop(name) {
  await api[name].disconnect();
  await testnet('stop', name);
}

/** Starts a stopped node again from its base path, and its client. */
async function start(name) {
  const { stdout } = await testnet('start', name);
  const url = stdout.match(/rpc=(\S+)/)[1];
  api[name] = await connect(url, 60_000);
}

const testnet = (...args) =>
  exec(script, [...args, '--dir', dir], { env: { ...process.env, FLEXCHAIN_NODE: nodeBin }, maxBuffer: 1 << 20 });

const finalized = async (a) => (await a.rpc.chain.getHeader(await a.rpc.chain.getFinalizedHead())).number.toNumber();
const best = async (a) => (await a.rpc.chain.getHeader()).number.toNumber();

/** Polls `check` until it returns a truthy value; fails with `what` after `ms`. */
async function until(what, ms, check) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await sleep(500);
  }
}

/** Sends `tx` and waits until the node it went to has finalized its block. */
async function sendFinalized(a, tx, signer) {
  const r = await send(a, tx, signer);
  const number = (await a.rpc.chain.getHeader(r.blockHash)).number.toNumber();
  await until(`block ${number} to be finalized`, 120_000, async () => (await finalized(a)) >= number);
  const hash = await a.rpc.chain.getBlockHash(number);
  assert.equal(hash.toHex(), r.blockHash.toHex(), 'the block with the call is the finalized one at its height');
  return { ...r, number };
}

/**
 * Watches `a` for `blocks` new blocks: the mean time between blocks and the mean
 * time from a block's import to its finality, in seconds.
 */
async function blockTimes(a, blocks) {
  const imported = new Map();
  const finality = [];
  let lastFinal = await finalized(a);
  let first;
  let last;
  let count = 0;
  await new Promise((resolve, reject) => {
    let unsubs = [];
    const done = () => {
      unsubs.forEach((u) => u());
      resolve();
    };
    Promise.all([
      a.rpc.chain.subscribeNewHeads((h) => {
        const n = h.number.toNumber();
        if (imported.has(n)) return;
        imported.set(n, Date.now());
        if (first === undefined) first = [n, Date.now()];
        last = [n, Date.now()];
        if (++count > blocks) done();
      }),
      a.rpc.chain.subscribeFinalizedHeads((h) => {
        const n = h.number.toNumber();
        for (let i = lastFinal + 1; i <= n; i++) if (imported.has(i)) finality.push(Date.now() - imported.get(i));
        lastFinal = Math.max(lastFinal, n);
      }),
    ])
      .then((u) => (unsubs = u))
      .catch(reject);
  });
  const blockTime = (last[1] - first[1]) / (last[0] - first[0]) / 1000;
  const finalityTime = finality.length ? finality.reduce((s, x) => s + x, 0) / finality.length / 1000 : NaN;
  return { blockTime, finalityTime, finalizedBlocks: finality.length };
}

/** The author of block `hash` (from its Aura pre-digest and the session's validators). */
async function author(a, hash) {
  const header = await a.derive.chain.getHeader(hash);
  return header.author?.toString();
}

before(async () => {
  // test.sh gives the directory, to stop the network should it stop the test.
  dir = process.env.NETWORK_TEST_DIR ?? mkdtempSync(join(tmpdir(), 'flexchain-testnet-'));
  rpcPort = await freePorts(6);
  p2pPort = await freePorts(6);
  const { stdout } = await testnet('up', '--fresh', '--rpc-node', '--detach', '--rpc-port', `${rpcPort}`, '--p2p-port', `${p2pPort}`);
  for (const line of stdout.split('\n')) {
    const m = line.match(/^\[testnet\] node=(\S+) role=\S+ rpc=(\S+)/);
    if (m) api[m[1]] = await connect(m[2], 60_000);
  }
  assert.deepEqual(Object.keys(api).sort(), [...VALIDATORS, 'rpc'].sort(), 'testnet.sh announces every node');
  for (const v of VALIDATORS) acct[v] = key(readFileSync(join(dir, v, 'account.secret'), 'utf8').trim());
  // The new aggregator's keys, made as its operator would.
  const keys = await exec(join(repo, 'scripts', 'validator-keys.sh'),
    ['--base-path', join(dir, 'newcomer'), '--chain', join(dir, 'network.toml'), '--party', 'Aggregator C', '--json'],
    { env: { ...process.env, FLEXCHAIN_NODE: nodeBin } });
  newcomer = JSON.parse(keys.stdout);
  acct.newcomer = key(readFileSync(join(dir, 'newcomer', 'account.secret'), 'utf8').trim());
  assertNoSecretPrinted(join(dir, 'newcomer'), keys.stdout + keys.stderr);
});

/**
 * The operator's keys script printed none of the secrets it wrote (the account's phrase,
 * the node key, the keystore's session-key phrases), and keeps them 0600 in 0700 directories.
 */
function assertNoSecretPrinted(base, output) {
  const chainDir = join(base, 'chains', CHAIN_ID);
  const keystore = join(chainDir, 'keystore');
  const files = [join(base, 'account.secret'), join(chainDir, 'network', 'secret_ed25519'),
    ...readdirSync(keystore).map((f) => join(keystore, f))];
  assert.equal(files.length, 5, `the account, the node key and three session keys (aura, gran, flex): ${files}`);
  for (const file of files) {
    const secret = readFileSync(file);
    const forms = [secret.toString('utf8').replace(/^"|"$/g, '').trim(), secret.toString('hex')];
    for (const form of forms.filter((f) => f.length >= 32)) {
      assert.ok(!output.includes(form), `validator-keys.sh printed the secret of ${file}`);
    }
    assert.equal(statSync(file).mode & 0o777, 0o600, `${file} is readable by its owner only`);
  }
  assert.equal(statSync(keystore).mode & 0o777, 0o700, 'the keystore is its owner\'s only');
}

after(async () => {
  for (const a of Object.values(api)) await a.disconnect().catch(() => {});
  await stopNode(newcomerNode);
  if (dir) {
    await testnet('down').catch(() => {});
    for (const f of figures) console.log(`[network] ${f}`);
    if (process.env.KEEP) console.log(`[network] kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
});

test('four validators produce and finalize blocks; a call sent to the RPC node lands in a validator\'s block', async () => {
  const validators = (await api.rpc.query.session.validators()).map(String);
  assert.deepEqual(validators.sort(), VALIDATORS.map((v) => acct[v].address).sort(), 'the genesis validators are the four parties');
  assert.deepEqual((await api.rpc.rpc.system.nodeRoles()).map(String), ['Full'], 'the RPC node does not validate');
  assert.deepEqual((await api.dso.rpc.system.nodeRoles()).map(String), ['Authority']);
  await until('the RPC node to find the four validators', 60_000, async () => (await api.rpc.rpc.system.health()).peers.toNumber() >= 4);
  assert.ok((await api.rpc.query.sudo?.key?.()) === undefined, 'there is no sudo');

  const t = await blockTimes(api.rpc, 6);
  figures.push(`4 validators: a block every ${t.blockTime.toFixed(2)} s, finalized ${t.finalityTime.toFixed(2)} s after import`);
  assert.ok(t.blockTime < 9, `blocks every ${t.blockTime} s`);
  assert.ok(t.finalizedBlocks > 0 && t.finalityTime < 30, `finality ${t.finalityTime} s`);

  // The RPC node forwards what it is sent: the newcomer's funds, from the DSO.
  const r = await sendFinalized(api.rpc, api.rpc.tx.balances.transferKeepAlive(newcomer.account, 100n * UNIT), acct.dso);
  const by = await author(api.rpc, r.blockHash);
  assert.ok(validators.includes(by), `block ${r.number} was authored by a validator (${by})`);
  assert.equal((await api.rpc.query.system.account(newcomer.account)).data.free.toBigInt(), 100n * UNIT);
});

test('one validator down: blocks are produced and finalized, and a market call to another node is finalized', async () => {
  regulatorDown = [await best(api.dso), Date.now()];
  await stop('regulator');
  const t = await blockTimes(api.dso, 6);
  figures.push(`3 of 4 validators: a block every ${t.blockTime.toFixed(2)} s, finalized ${t.finalityTime.toFixed(2)} s after import`);
  assert.ok(t.finalizedBlocks > 0 && t.finalityTime < 40, `finality ${t.finalityTime} s with one down`);
  // The newcomer registers as an FSP through Aggregator B's node.
  const r = await sendFinalized(api['aggregator-b'], api['aggregator-b'].tx.flexMarket.registerFsp(), acct.newcomer);
  assert.ok(r.events.some(({ event }) => event.section === 'flexMarket' && event.method === 'FspRegistered'), 'FspRegistered');
  assert.ok((await api.dso.query.flexMarket.fsps(acct.newcomer.address)).isSome, 'the DSO\'s node sees the FSP');
});

test('two of four down: finality stalls; one back: finality resumes and the restarted validator catches up', async () => {
  await stop('aggregator-b');
  await sleep(12_000); // any round already voted completes
  const stalled = await finalized(api.dso);
  const from = await best(api.dso);
  await until('three more blocks from the two validators left', 120_000, async () => (await best(api.dso)) >= from + 3);
  assert.equal(await finalized(api.dso), stalled, 'two of four validators cannot finalize');
  assert.equal(await finalized(api['aggregator-a']), stalled);

  // The regulator, down since the previous test, starts again from its base path.
  const head = await best(api.dso);
  const restarted = Date.now();
  await start('regulator');
  await until('finality to pass the stalled height', 120_000, async () => (await finalized(api.dso)) >= head);
  const resumed = (Date.now() - restarted) / 1000;
  const target = await finalized(api.dso);
  await until('the regulator to reach the finalized block', 120_000, async () => (await finalized(api.regulator)) >= target);
  const caughtUp = (Date.now() - restarted) / 1000;
  figures.push(`two of four down: finality stalled at #${stalled} while blocks went on to #${head}; after a restart it resumed in ${resumed.toFixed(1)} s`);
  const downFor = `${head - regulatorDown[0]} blocks (${((restarted - regulatorDown[1]) / 1000).toFixed(0)} s)`;
  figures.push(`a validator restarted from its base path after ${downFor} down caught up to finalized #${target} in ${caughtUp.toFixed(1)} s`);
  await start('aggregator-b');
  const t2 = await finalized(api.dso);
  await until('aggregator B to catch up', 120_000, async () => (await finalized(api['aggregator-b'])) >= t2);
});

test('governance: the DSO alone cannot add a validator; the council adds one that authors blocks, then removes it', async () => {
  const a = api['aggregator-a'];
  const add = a.tx.validatorSet.addValidator(newcomer.account);
  // The DSO alone: a motion at threshold 1 executes with the DSO's single vote and is refused.
  const alone = await send(a, a.tx.council.propose(1, add, add.method.encodedLength), acct.dso);
  const executed = alone.events.find(({ event }) => a.events.council.Executed.is(event));
  assert.ok(executed, 'a motion at threshold 1 executes at once');
  assert.ok(executed.event.data.result.isErr, 'and is refused: one member is not two thirds');
  assert.equal((await a.query.validatorSet.validators()).length, 4);

  // Keys on chain, the node started, then the council's motion (three of four).
  await sendFinalized(a, a.tx.session.setKeys(newcomer.session_keys, newcomer.proof), acct.newcomer);
  const port = await freePorts(2);
  newcomerNode = spawn(nodeBin, [
    '--chain', join(dir, 'spec.json'), '--base-path', join(dir, 'newcomer'), '--name', 'newcomer', '--validator',
    '--port', `${port}`, '--rpc-port', `${port + 1}`, '--no-mdns', '--no-telemetry', '--no-prometheus',
    '--bootnodes', `/ip4/127.0.0.1/tcp/${p2pPort}/p2p/${JSON.parse(readFileSync(join(dir, 'dso.keys.json'))).peer_id}`,
  ], { stdio: ['ignore', openSync(join(dir, 'newcomer.log'), 'a'), openSync(join(dir, 'newcomer.log'), 'a')] });
  const council = [acct.dso, acct['aggregator-a'], acct['aggregator-b']];
  const added = await motion(a, 'council', add, { proposer: acct.dso, ayes: council });
  assert.equal(added.result, 'Ok');
  const inSession = async () => (await a.query.session.validators()).map(String).includes(newcomer.account);
  const t0 = Date.now();
  await until('the newcomer in the session\'s validators', 300_000, inSession);
  const joined = (Date.now() - t0) / 1000;
  const authored = await until('a block authored by the newcomer', 120_000, async () => {
    const hash = await a.rpc.chain.getBlockHash();
    return (await author(a, hash)) === newcomer.account ? hash : undefined;
  });
  figures.push(`a validator added by a council motion joined the session ${joined.toFixed(0)} s after the motion passed and authored its first block ${((Date.now() - t0) / 1000).toFixed(0)} s after it (sessions of 10 blocks)`);
  assert.ok(authored);

  const removed = await motion(a, 'council', a.tx.validatorSet.removeValidator(newcomer.account), { proposer: acct.dso, ayes: council });
  assert.equal(removed.result, 'Ok');
  await until('the newcomer out of the session', 300_000, async () => !(await inSession()));
  const from = await best(a);
  await until('a session without the newcomer', 180_000, async () => (await best(a)) >= from + 10);
  for (let n = from + 1; n <= from + 10; n++) {
    const by = await author(a, await a.rpc.chain.getBlockHash(n));
    assert.notEqual(by, newcomer.account, `block ${n} was not authored by the removed validator`);
  }
  assert.ok((await finalized(a)) >= from + 5, 'the four finalize without it');
});
