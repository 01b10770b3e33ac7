// What the browser tests start: a dev chain (one, shared by all tests) on a fast
// market clock, the simulated battery and V2G charger, the DSO's bridge, and the app's
// static server; and the chain-side helpers the set-up needs. The runtime has no sudo:
// as flex-pilot does, the chain's genesis sets the market clock and the settlement grace.
import { execFileSync, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtempSync, rmSync, createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
// Free ports and stopping a process are the repository's JS tests' (tests/js).
import { freePort, stopNode } from '../../../tests/js/harness.mjs';

export { freePort };

export const WEB = fileURLToPath(new URL('../..', import.meta.url));
const target = process.env.CARGO_TARGET_DIR ?? `${homedir()}/.cache/flexchain/target`;
export const BIN = process.env.FLEXCHAIN_BIN_DIR ?? `${target}/release`;
export const RESULTS = join(WEB, 'test-results');
mkdirSync(RESULTS, { recursive: true });

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const procs = [];

/** Starts `bin` with its output in test-results/<name>.log. */
export function start(name, bin, args) {
  const log = createWriteStream(join(RESULTS, `${name}.log`));
  const child = spawn(bin, args.map(String), { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const p = { name, child };
  procs.push(p);
  return p;
}

/** Stops one process started with `start`: SIGINT, SIGKILL after `graceMs`; resolves once it has exited. */
export const stop = (p, graceMs = 15_000) => stopNode(p?.child, graceMs);

export async function stopAll() {
  while (procs.length) await stop(procs.pop());
}

const MIN = 60_000;

/**
 * The market's parameters at genesis: the runtime's defaults (runtime/src/configs/market.rs)
 * with `settlementGraceMs` from `overrides`.
 */
export function marketParams(overrides = {}) {
  const UNIT = 10 ** 12;
  return {
    settlementGraceMs: 15 * MIN, retentionMs: 7 * 24 * 60 * MIN, penaltyThreshold: 0, penaltyRate: 0,
    requestDeposit: UNIT / 10, assetDeposit: UNIT / 10, fspDeposit: UNIT, solutionMargin: 0,
    priceCap: null, horizonMs: 7 * 24 * 60 * MIN, ...overrides,
  };
}

/**
 * A dev chain (the development preset, Alice validating) whose database outlives a
 * restart (for the lost-connection test), with `genesis` ({ clockScale, params }) in
 * its market's genesis.
 */
export class Node {
  constructor(genesis = {}) {
    this.base = mkdtempSync(join(tmpdir(), 'flexchain-web-node-'));
    const spec = JSON.parse(execFileSync(`${BIN}/flexchain-node`, ['build-spec', '--chain', 'dev'], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 }));
    Object.assign(spec.genesis.runtimeGenesis.patch.flexMarket, genesis);
    this.spec = join(this.base, 'spec.json');
    writeFileSync(this.spec, JSON.stringify(spec));
  }
  async start(rpcPort) {
    this.rpcPort = rpcPort ?? this.rpcPort ?? (await freePort());
    this.p2p = await freePort();
    this.proc = start(`node-${Date.now()}`, `${BIN}/flexchain-node`, [
      '--chain', this.spec, '--alice', '--validator', '--force-authoring',
      // A validator needs a stable network identity: a fixed one for a test chain.
      '--node-key', '00'.repeat(31) + '01',
      '--base-path', join(this.base, 'db'), '--rpc-port', this.rpcPort, '--port', this.p2p,
      '--no-prometheus', '--no-telemetry', '--no-mdns', '--rpc-cors', 'all',
    ]);
    return this;
  }
  get url() {
    return `ws://127.0.0.1:${this.rpcPort}`;
  }
  async stop() {
    await stop(this.proc, 20_000);
  }
  cleanup() {
    rmSync(this.base, { recursive: true, force: true });
  }
}

/** Resolves once something listens on `port` (so that no client logs refused attempts). */
async function listening(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port}`);
    await sleep(250);
  }
}

export async function connectApi(url) {
  await listening(Number(new URL(url).port), 90_000);
  const provider = new WsProvider(url, 500);
  const deadline = Date.now() + 90_000;
  while (!provider.isConnected) {
    if (Date.now() > deadline) throw new Error(`no node at ${url}`);
    await sleep(250);
  }
  const api = await ApiPromise.create({ provider, noInitWarn: true });
  await cryptoWaitReady();
  // Wait for the first finalized block, as flex-pilot does, and while a clock scale
  // set at genesis waits for the chain's first timestamp (block 2), until a finalized
  // block has the market clock, so that a bridge started next reads it.
  for (;;) {
    const head = await api.rpc.chain.getFinalizedHead();
    const number = (await api.rpc.chain.getHeader(head)).number.toNumber();
    if (number >= 1 && (await api.query.flexMarket.pendingClockScale.at(head)).isNone) break;
    await sleep(500);
  }
  return { api, provider, keyring: new Keyring({ type: 'sr25519', ss58Format: api.registry.chainSS58 }) };
}

/** Signs and sends; resolves once finalized (the bridge follows finalized blocks), rejects on a dispatch error. */
export function submit(api, tx, signer, options = {}) {
  return new Promise((resolve, reject) => {
    tx.signAndSend(signer, options, ({ status, events, dispatchError }) => {
      if (!status.isFinalized) return;
      const err = dispatchError;
      if (err) {
        const why = err.isModule ? api.registry.findMetaError(err.asModule) : null;
        reject(new Error(why ? `${why.section}.${why.name}` : err.toString()));
      } else resolve(events);
    }).catch(reject);
  });
}

/** The market clock the chain runs (flexMarket.clock). */
export async function marketClock(api) {
  const c = await api.query.flexMarket.clock();
  const v = c.unwrap();
  return { chainMs: v.chainMs.toNumber(), marketMs: v.marketMs.toNumber(), scale: v.scale.toNumber() };
}

export const marketNow = async (provider) => Number(await provider.send('flexMarket_now', []));

/** The bridge's configuration for the pilot's two devices. */
export function bridgeConfig({ url, store, http, ocpp, battery, charger, modbusPort }) {
  return `[chain]
url = "${url}"
oracle_key = "//Eve"

[store]
path = "${store}"

[http]
listen = "127.0.0.1:${http}"

[ocpp]
listen = "127.0.0.1:${ocpp}"
call_timeout_s = 5

[[asset]]
id = ${battery}
modbus = { address = "127.0.0.1:${modbusPort}", unit = 1, profile = "der704", timeout_s = 1.0 }

[[asset]]
id = ${charger}
ocpp = { charge_point = "V2G-1" }
`;
}

export const tempDir = () => mkdtempSync(join(tmpdir(), 'flexchain-web-'));

/** `ms` as a datetime-local value in `timeZone` ("2026-11-30T02:35"). */
export function localInput(ms, timeZone) {
  const s = new Intl.DateTimeFormat('sv-SE', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).format(new Date(ms));
  return s.replace(' ', 'T');
}
