#!/usr/bin/env node
// Upgrades the runtime of a running Flexchain from a WASM file through governance:
// the technical committee whitelists `system.authorizeUpgrade(hash)`, the council
// dispatches it, then the code is applied and the new runtime version printed.
//
//   node scripts/governance/upgrade.mjs --wasm runtime.compact.compressed.wasm \
//     [--url ws://127.0.0.1:9944] [--council //Alice,//Bob] [--technical //Dave,//Eve] \
//     [--payer //Alice]
//
// Each key list holds the secret URIs of the members who vote aye (the first
// proposes); two thirds of each body are needed. On a network where members hold
// their own keys, each of them can vote from Polkadot.js Apps (Governance >
// Council / Tech. comm.) on the motions this script opens. Exit codes: 0 upgraded,
// 1 refused or failed, 2 bad arguments.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { connect, key, runtimeVersion, upgradeRuntime } from './governance.mjs';

const usage = 'usage: upgrade.mjs --wasm FILE [--url WS] [--council SURI,..] [--technical SURI,..] [--payer SURI]';

function options() {
  try {
    const { values } = parseArgs({
      options: {
        wasm: { type: 'string' },
        url: { type: 'string', default: 'ws://127.0.0.1:9944' },
        council: { type: 'string', default: '//Alice,//Bob' },
        technical: { type: 'string', default: '//Dave,//Eve' },
        payer: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      console.log(usage);
      process.exit(0);
    }
    if (!values.wasm) throw new Error('--wasm is required');
    return values;
  } catch (e) {
    console.error(`upgrade: ${e.message}\n${usage}`);
    process.exit(2);
  }
}

const step = (msg) => console.log(`[upgrade] ${msg}`);

async function main() {
  const opts = options();
  let code;
  try {
    code = readFileSync(opts.wasm);
  } catch (e) {
    console.error(`upgrade: cannot read ${opts.wasm}: ${e.message}`);
    process.exit(2);
  }
  if (code.length < 8 || !(code.subarray(0, 4).toString('hex') === '0061736d' || code.subarray(0, 8).toString('hex') === '52bc537646db8e05')) {
    console.error(`upgrade: ${opts.wasm} is neither a WASM module nor a compressed one`);
    process.exit(2);
  }
  const keys = (list) => list.split(',').filter(Boolean).map(key);
  const technical = keys(opts.technical);
  const council = keys(opts.council);
  const payer = key(opts.payer ?? opts.council.split(',')[0]);
  const api = await connect(opts.url);
  try {
    step(`connected to ${opts.url} (${(await api.rpc.system.chain()).toString()})`);
    const before = await runtimeVersion(api);
    const outcome = await upgradeRuntime(api, new Uint8Array(code), { technical, council, payer, log: step });
    if (!outcome.applied) {
      step(`refused: the runtime stays ${before.specName} ${before.specVersion}`);
      process.exitCode = 1;
      return;
    }
    // The new code runs from the next block on, after its migrations: wait for it.
    const applied = (await api.rpc.chain.getHeader(outcome.blockHash)).number.toNumber();
    const deadline = Date.now() + 120_000;
    while ((await api.rpc.chain.getHeader()).number.toNumber() <= applied) {
      if (Date.now() > deadline) {
        step(`no block after #${applied} within two minutes`);
        process.exitCode = 1;
        return;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    const first = await api.rpc.chain.getBlockHash(applied + 1);
    const v = await api.rpc.state.getRuntimeVersion(first);
    const now = { specName: v.specName.toString(), specVersion: v.specVersion.toNumber() };
    if (now.specVersion === before.specVersion) {
      step(`block #${applied + 1} still runs spec ${before.specVersion}`);
      process.exitCode = 1;
      return;
    }
    step(`block #${applied + 1} ran the new runtime and its migrations`);
    step(`runtime version: ${now.specName} ${before.specVersion} -> ${now.specVersion}`);
  } finally {
    await api.disconnect();
  }
}

main().catch((e) => {
  console.error(`upgrade: ${e.message}`);
  process.exit(1);
});
