#!/usr/bin/env node
// Measures the two budgets of the app and prints them:
//   - the built bundle, gzipped (everything in dist/ a browser loads): under 1 MB;
//   - the first view (the DSO's, //Dave on a dev chain) usable: its request form and
//     its load chart drawn, from navigation, in headless Chromium: under 2 s.
// Uses the node at --rpc, or starts `flexchain-node --dev --tmp` from the build
// directory. Exits 1 if the bundle is over budget, or if the median of the loads is
// (the first, cold load is printed too: it includes the browser's own start-up).
//   node scripts/measure.mjs [--rpc ws://127.0.0.1:9944] [--runs 3]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { launch } from '../tests/browser/browser.mjs';
import { Node, connectApi, freePort, start, stopAll, WEB } from '../tests/browser/harness.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const BUNDLE_BUDGET = 1024 * 1024;
const LOAD_BUDGET_MS = 2000;
const dist = join(WEB, 'dist');

function files(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

const code = files(dist).filter((f) => /\.(js|css|html|wasm)$/.test(f));
let gz = 0;
let raw = 0;
for (const f of code) {
  const b = readFileSync(f);
  raw += b.length;
  gz += gzipSync(b, { level: 9 }).length;
}
console.log(`[measure] bundle: ${code.length} files, ${(raw / 1024).toFixed(0)} KiB, ${(gz / 1024).toFixed(0)} KiB gzipped (budget ${BUNDLE_BUDGET / 1024} KiB)`);

let node;
let rpc = arg('rpc');
if (!rpc) {
  node = new Node();
  await node.start();
  rpc = node.url;
  const { api } = await connectApi(rpc);
  await api.disconnect();
}
const web = await freePort();
start('measure-web', process.execPath, [fileURLToPath(new URL('./serve.mjs', import.meta.url)), '--port', web, '--rpc', rpc]);
await new Promise((r) => setTimeout(r, 500));
const browser = await launch();
const runs = Number(arg('runs', 5));
const times = [];
for (let i = 0; i < runs; i++) {
  const page = await browser.page(`run ${i}`);
  const t0 = Date.now();
  await page.goto(`http://127.0.0.1:${web}/?rpc=${encodeURIComponent(rpc)}&account=//Dave#/dso`);
  await page.waitForSelector('[data-testid=request-form] button[type=submit]', { timeout: 30_000 });
  await page.waitForSelector('[data-testid=location-1] canvas', { timeout: 30_000 });
  times.push(Date.now() - t0);
  await page.close();
}
await browser.close();
await stopAll();
node?.cleanup();
const first = times[0];
const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
console.log(`[measure] first view usable: ${first} ms on a cold load, median ${median} ms of ${runs} loads: ${times.join(', ')} ms (budget ${LOAD_BUDGET_MS} ms)`);
if (browser.errors.length) console.log(`[measure] console errors:\n${browser.errors.join('\n')}`);
const ok = gz <= BUNDLE_BUDGET && median <= LOAD_BUDGET_MS;
console.log(`[measure] ${ok ? 'within both budgets' : 'OVER BUDGET'}`);
process.exit(ok ? 0 : 1);
