// The app in a real browser (Debian's headless Chromium through playwright-core)
// against one dev chain shared by every test, on a fast market clock, with the
// simulated battery (SunSpec/Modbus) and V2G charger (OCPP 1.6J) behind the DSO's
// bridge. Every market step is signed in the app with development keys; nothing
// goes around the UI. Set-up only (the market clock, the settlement grace) uses sudo
// as flex-pilot does. Screenshots and logs go to web/test-results/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { launch } from './browser.mjs';
import {
  BIN, RESULTS, Node, bridgeConfig, marketParams, connectApi, freePort, localInput, marketClock, marketNow, sleep, start, stopAll, submit, tempDir, WEB,
} from './harness.mjs';

const SCALE = Number(process.env.FLEX_WEB_SCALE ?? 30);
const TZ = 'Europe/Istanbul';
const MIN = 60_000;
const node = new Node({ clockScale: SCALE, params: marketParams({ settlementGraceMs: 10 * MIN }) });
let api, provider, keyring, browser, web, bridgeHttp, temp;
let dave, bob, charlie;
const assets = {};
const procs = {};
const timings = {};

const appUrl = (account, view) =>
  `http://127.0.0.1:${web}/?rpc=${encodeURIComponent(node.url)}&account=${encodeURIComponent(account)}#/${view}`;

async function open(account, view) {
  const page = await browser.page(`${account} ${view}`);
  await page.goto(appUrl(account, view));
  await ready(page);
  return page;
}

async function ready(page) {
  await page.waitForSelector('[data-testid=conn][data-state=connected]', { timeout: 60_000 });
  await page.waitForSelector('main[data-ready=yes]', { timeout: 60_000 });
  await page.waitForFunction(() => document.querySelector('[data-testid=account]')?.value, null, { timeout: 30_000 });
}

const shot = (page, name) => page.screenshot({ path: join(RESULTS, `${name}.png`), fullPage: true });

/** Clicks `button` and waits for the transaction it signs to be in a block. */
async function signed(page, button, { expectFail = false, timeout = 60_000 } = {}) {
  const before = await page.$$eval('[data-testid=tx]', (els) => Math.max(0, ...els.map((e) => Number(e.dataset.id))));
  await button.click();
  const tx = page.locator(`[data-testid=tx]`).filter({ has: page.locator('b') }).last();
  await page.waitForFunction(
    (n) => [...document.querySelectorAll('[data-testid=tx]')].some((e) => Number(e.dataset.id) > n && ['done', 'failed'].includes(e.dataset.status)),
    before,
    { timeout },
  );
  const status = await tx.getAttribute('data-status');
  const error = status === 'failed' ? await tx.locator('[data-testid=tx-error]').textContent() : '';
  if (expectFail) {
    assert.equal(status, 'failed', 'the chain refused it');
    return error;
  }
  assert.equal(status, 'done', `signed and in a block (${error})`);
  return '';
}

async function txCount(page) {
  return page.locator('[data-testid=tx]').count();
}

before(async () => {
  const t0 = Date.now();
  await node.start();
  ({ api, provider, keyring } = await connectApi(node.url));
  dave = keyring.addFromUri('//Dave').address;
  bob = keyring.addFromUri('//Bob').address;
  charlie = keyring.addFromUri('//Charlie').address;
  // The genesis set the market clock and a 10-minute grace, as flex-pilot's does.
  assert.equal((await api.query.flexMarket.params()).settlementGraceMs.toNumber(), 10 * MIN);
  const clock = await marketClock(api);
  assert.equal(clock.scale, SCALE);

  // The devices and the bridge, configured for the next two asset ids: the battery Bob
  // and the charger Charlie register in the app.
  const next = (await api.query.flexMarket.nextAssetId()).toNumber();
  assets.battery = next;
  assets.charger = next + 1;
  const [modbus, ocpp] = [await freePort(), await freePort()];
  bridgeHttp = await freePort();
  const clockArgs = ['--scale', SCALE, '--epoch-ms', clock.chainMs, '--market-epoch-ms', clock.marketMs];
  start('sim-battery', `${BIN}/sim-battery`, ['--listen', `127.0.0.1:${modbus}`, '--capacity-wh', 13500, '--soc', 73.4, '--max-power-w', 10000, '--serial', 'SIM-WEB', ...clockArgs]);
  temp = tempDir();
  const cfg = join(temp, 'bridge.toml');
  writeFileSync(cfg, bridgeConfig({ url: node.url, store: join(temp, 'bridge.redb'), http: bridgeHttp, ocpp, battery: assets.battery, charger: assets.charger, modbusPort: modbus }));
  procs.bridge = start('bridge', `${BIN}/flex-bridge`, ['--config', cfg]);
  await sleep(1000);
  start('sim-charger', `${BIN}/sim-charger`, ['--url', `ws://127.0.0.1:${ocpp}/ocpp`, '--id', 'V2G-1', '--capacity-wh', 40000, '--soc', 47.425, '--max-power-w', 10000, '--reserve', 30, ...clockArgs]);
  assets.modbus = modbus;

  web = await freePort();
  start('web', process.execPath, [join(WEB, 'scripts/serve.mjs'), '--port', web, '--rpc', node.url, '--bridge', `http://127.0.0.1:${bridgeHttp}`]);
  browser = await launch();
  timings.setup = Date.now() - t0;
});

after(async () => {
  await browser?.close();
  await api?.disconnect().catch(() => {});
  await stopAll();
  node.cleanup();
  if (temp) rmSync(temp, { recursive: true, force: true });
  console.log(`[web-tests] timings (ms): ${JSON.stringify(timings)}`);
});

test('the first view is usable within 2 s of loading', async () => {
  const page = await browser.page('load');
  const t0 = Date.now();
  await page.goto(appUrl('//Dave', 'dso'));
  await page.waitForSelector('[data-testid=request-form] button[type=submit]', { timeout: 30_000 });
  await page.waitForSelector('[data-testid=location-1] canvas', { timeout: 30_000 });
  const ms = Date.now() - t0;
  timings.firstView = ms;
  console.log(`[web-tests] first view usable in ${ms} ms`);
  assert.ok(ms < 2000 * (Number(process.env.FLEX_WEB_SLACK ?? 2)), `first view in ${ms} ms`);
  await page.close();
});

test('the FSPs register their assets and the DSO prequalifies them', async () => {
  const b = await open('//Bob', 'fsp');
  const form = b.locator('[data-testid=asset-form]');
  await form.locator('select[name=kind]').selectOption('Battery');
  await form.locator('input[name=maxExport]').fill('10');
  await form.locator('input[name=maxImport]').fill('10');
  await form.locator('input[name=capacity]').fill('13.5');
  await form.locator('input[name=minSoc]').fill('20');
  await form.locator('input[name=device]').fill(`modbus://127.0.0.1:${assets.modbus}/1`);
  await signed(b, form.locator('[data-testid=submit-asset]'));
  await b.waitForSelector(`[data-testid=asset-${assets.battery}]`);

  const c = await open('//Charlie', 'fsp');
  const cf = c.locator('[data-testid=asset-form]');
  await cf.locator('select[name=kind]').selectOption('V2gCharger');
  await cf.locator('input[name=maxExport]').fill('10');
  await cf.locator('input[name=maxImport]').fill('10');
  await cf.locator('input[name=capacity]').fill('40');
  await cf.locator('input[name=minSoc]').fill('30');
  await cf.locator('input[name=device]').fill('ocpp://V2G-1/1');
  await signed(c, cf.locator('[data-testid=submit-asset]'));
  await c.waitForSelector(`[data-testid=asset-${assets.charger}]`);

  const d = await open('//Dave', 'dso');
  for (const id of [assets.battery, assets.charger]) {
    await d.waitForSelector(`[data-testid=preq-${id}]`);
    await signed(d, d.locator(`[data-testid=asset-${id}-prequalified]`));
  }
  await d.waitForSelector(`[data-testid=preq-${assets.charger}] .s-prequalified`);
  await b.waitForSelector(`[data-testid=asset-${assets.battery}] .s-prequalified`);
  for (const p of [b, c, d]) await p.close();
});

test('bad input in each form is refused with its reason before signing', async () => {
  const requestsBefore = (await api.query.flexMarket.nextRequestId()).toNumber();
  const d = await open('//Dave', 'dso');
  const rf = d.locator('[data-testid=request-form]');
  const now = await marketNow(provider);
  const at = (min) => localInput(now + min * MIN, TZ);
  const good = { power: '20', start: at(120), end: at(165), gateClosure: at(100), maxPrice: '0.21', maxOver: '0' };
  const cases = [
    [{ power: '0' }, 'power', /PowerOutOfRange/],
    [{ power: '1.0005' }, 'power', /at most 3 decimals/],
    [{ start: at(-30), end: at(10), gateClosure: at(-40) }, 'start', /future.*InvalidWindow/],
    [{ end: at(120 + 25 * 60) }, 'end', /longer than.*InvalidWindow/],
    [{ start: at(8 * 1440), end: at(8 * 1440 + 45) }, 'start', /horizon.*WindowTooFar/],
    [{ gateClosure: at(130) }, 'gateClosure', /InvalidGateClosure/],
    [{ maxPrice: '0' }, 'maxPrice', /ZeroPrice/],
    [{ maxPrice: 'cheap' }, 'maxPrice', /number/],
  ];
  for (const [over, field, why] of cases) {
    for (const [k, v] of Object.entries({ ...good, ...over })) await rf.locator(`input[name=${k}]`).fill(v);
    await rf.locator('[data-testid=post-request]').click();
    const msg = await rf.locator(`[data-testid=error-${field}]`).textContent({ timeout: 5000 });
    assert.match(msg, why, `${field}: ${msg}`);
  }
  await shot(d, 'bad-input-request');
  assert.equal(await txCount(d), 0, 'nothing was signed');

  // The chain's own refusal in words: the merit order of a request with no offers.
  for (const [k, v] of Object.entries({ ...good, start: at(1440), end: at(1485), gateClosure: at(1400) })) await rf.locator(`input[name=${k}]`).fill(v);
  await signed(d, rf.locator('[data-testid=post-request]'));
  const card = d.locator(`[data-testid=request-${requestsBefore}]`);
  await card.waitFor();
  const refusal = await signed(d, card.locator('[data-testid=run-merit-order]'), { expectFail: true });
  assert.match(refusal, /^flexMarket\.\w+: \w+/, `the module error with its documentation: ${refusal}`);
  console.log(`[web-tests] the chain's refusal as shown: ${refusal}`);
  await signed(d, card.locator('[data-testid=cancel-request]'));

  const b = await open('//Bob', 'fsp');
  const af = b.locator('[data-testid=asset-form]');
  const assetCases = [
    [{ maxExport: '0', maxImport: '0' }, 'maxExport', /PowerOutOfRange/],
    [{ minSoc: '101' }, 'minSoc', /SocOutOfRange/],
    [{ capacity: '13.5555' }, 'capacity', /at most 3 decimals/],
    [{ device: 'x'.repeat(300) }, 'device', /bytes.*TooLong/],
  ];
  const goodAsset = { maxExport: '5', maxImport: '5', capacity: '10', minSoc: '10', device: 'modbus://x' };
  for (const [over, field, why] of assetCases) {
    for (const [k, v] of Object.entries({ ...goodAsset, ...over })) await af.locator(`input[name=${k}]`).fill(v);
    await af.locator('[data-testid=submit-asset]').click();
    assert.match(await af.locator(`[data-testid=error-${field}]`).textContent({ timeout: 5000 }), why);
  }
  const of = b.locator('[data-testid=offer-form]');
  await of.locator('select[name=asset]').selectOption(String(assets.battery));
  const goodOffer = { power: '10', start: at(120), end: at(165), price: '0.10' };
  const offerCases = [
    [{ power: '12' }, 'power', /at most 10 kW up.*PowerOutOfRange/],
    [{ price: '0' }, 'price', /ZeroPrice/],
    [{ price: '0.0000000000001' }, 'price', /at most 12 decimals/],
    [{ start: at(-10) }, 'start', /InvalidWindow/],
    [{ start: at(8 * 1440) , end: at(8 * 1440 + 45) }, 'start', /WindowTooFar/],
  ];
  for (const [over, field, why] of offerCases) {
    for (const [k, v] of Object.entries({ ...goodOffer, ...over })) await of.locator(`input[name=${k}]`).fill(v);
    await of.locator('[data-testid=submit-offer]').click();
    assert.match(await of.locator(`[data-testid=error-${field}]`).textContent({ timeout: 5000 }), why);
  }
  await shot(b, 'bad-input-fsp');
  assert.equal(await txCount(b), 0, 'nothing was signed');
  assert.equal((await api.query.flexMarket.nextRequestId()).toNumber(), requestsBefore + 1, 'only the valid request was posted');
  for (const p of [b, d]) await p.close();
});

/** Fails at once, with the end of its log, if the bridge is not following the chain. */
async function bridgeFollows() {
  const deadline = Date.now() + 60_000;
  let last = '';
  while (Date.now() < deadline) {
    if (procs.bridge.child.exitCode !== null) break;
    try {
      const h = await (await fetch(`http://127.0.0.1:${bridgeHttp}/health`)).json();
      if (h.chain_connected && h.last_block > 0 && h.status === "ok") return;
      last = JSON.stringify(h);
    } catch (e) {
      last = e.message;
    }
    await sleep(1000);
  }
  const log = readFileSync(join(RESULTS, 'bridge.log'), 'utf8').split('\n').slice(-8).join('\n');
  assert.fail(`the bridge does not follow the chain (${last}); the end of test-results/bridge.log:\n${log}`);
}

test('the whole pilot through the app: request, offers, purchase, dispatch, delivery, settlement', async () => {
  await bridgeFollows();
  const t0 = Date.now();
  const d = await open('//Dave', 'dso');
  const b = await open('//Bob', 'fsp');
  const c = await open('//Charlie', 'fsp');

  // The DSO asks for 20 kW up for 45 minutes at most 0.21 per kWh, starting about 75 s
  // of real time from now; the gate closes 20 s of real time before the start.
  const now = await marketNow(provider);
  const start = Math.ceil((now + 75_000 * SCALE) / MIN) * MIN;
  const end = start + 45 * MIN;
  const gate = start - Math.ceil((20_000 * SCALE) / MIN) * MIN;
  const rf = d.locator('[data-testid=request-form]');
  await rf.locator('select[name=direction]').selectOption('Up');
  for (const [k, v] of Object.entries({ power: '20', start: localInput(start, TZ), end: localInput(end, TZ), gateClosure: localInput(gate, TZ), maxPrice: '0.21', maxOver: '0' })) {
    await rf.locator(`input[name=${k}]`).fill(v);
  }
  const id = (await api.query.flexMarket.nextRequestId()).toNumber();
  await signed(d, rf.locator('[data-testid=post-request]'));
  const r = (await api.query.flexMarket.requests(id)).unwrap();
  assert.equal(r.spec.powerW.toNumber(), 20_000);
  assert.equal(r.spec.maxPrice.toBigInt(), 210_000_000_000n, '0.21 FLEX per kWh in planks');
  assert.equal(r.spec.window.start.toNumber(), start);
  assert.equal(r.spec.gateClosure.toNumber(), gate);

  // Both FSPs offer 10 kW at 0.10 from the request's row.
  await Promise.all(
    [b, c].map(async (p) => {
      await p.waitForSelector(`[data-testid=offer-for-${id}]`, { timeout: 30_000 });
      await p.click(`[data-testid=offer-for-${id}]`);
      const of = p.locator('[data-testid=offer-form]');
      assert.equal(await of.locator('input[name=power]').inputValue(), '10');
      await of.locator('input[name=price]').fill('0.10');
      await signed(p, of.locator('[data-testid=submit-offer]'));
    }),
  );

  // The DSO sees both offers, stores the match (unless the solver did), and buys.
  const card = d.locator(`[data-testid=request-${id}]`);
  await card.locator('[data-testid=eligible-offers] tbody tr').nth(1).waitFor({ timeout: 30_000 });
  if ((await card.locator('[data-testid=match-preview]').getAttribute('data-source').catch(() => null)) !== 'Stored') {
    const run = card.locator('[data-testid=run-merit-order]');
    if (await run.count()) await signed(d, run, { expectFail: false }).catch((e) => console.log(`[web-tests] merit order: ${e.message}`));
  }
  await card.locator('[data-testid=match-preview][data-source=Stored]').waitFor({ timeout: 30_000 });
  await card.locator('[data-testid=buy]').click();
  const cost = await card.locator('[data-testid=escrow-cost]').textContent();
  assert.equal(cost, '1.5 FLEX', 'two fills of 7.5 kWh at 0.10');
  await shot(d, 'dso-buy');
  await signed(d, card.locator('[data-testid=buy-confirm-button]'));
  const contract = (await api.query.flexMarket.contracts(id)).unwrap();
  assert.equal(contract.cost.toBigInt(), 1_500_000_000_000n);
  timings.bought = Date.now() - t0;
  assert.ok(Date.now() < (start - now) / SCALE + t0, 'bought before the window');

  // The window on the market clock: dispatch live in the DSO's and the FSP's views.
  const realUntil = (ms) => Math.max(0, (ms - now) / SCALE - (Date.now() - t0));
  await sleep(realUntil(start + 36 * MIN));
  await d.locator(`[data-testid=contract-${id}]`).scrollIntoViewIfNeeded();
  await d.waitForFunction(() => [...document.querySelectorAll('[data-testid=metered-kwh]')].some((e) => parseFloat(e.textContent) > 0), null, { timeout: 30_000 });
  await shot(d, 'dso');
  await d.locator(`[data-testid=contract-${id}]`).screenshot({ path: join(RESULTS, 'dso-dispatch.png') });
  await b.waitForSelector(`[data-testid=won-${id}-0], [data-testid=won-${id}-1]`);
  await b.waitForFunction(() => [...document.querySelectorAll('[data-testid=metered-kwh]')].some((e) => parseFloat(e.textContent) > 0), null, { timeout: 30_000 });
  await shot(b, 'fsp');
  await b.locator('[data-testid=won]').screenshot({ path: join(RESULTS, 'fsp-contract.png') });

  // Delivery reports and settlement after the grace.
  const table = d.locator(`[data-testid=contract-${id}] [data-testid=settlement-table]`);
  await sleep(realUntil(end + 10 * MIN));
  await d.waitForFunction(
    (sel) => {
      const cells = [...document.querySelectorAll(sel)];
      return cells.length === 2 && cells.every((c) => /FLEX/.test(c.textContent));
    },
    `[data-testid=contract-${id}] [data-testid=settlement-table] [data-testid=paid]`,
    { timeout: 120_000 },
  );
  timings.settled = Date.now() - t0;
  const rows = {};
  for (const row of await table.locator('tbody tr[data-asset]').all()) {
    const asset = Number(await row.getAttribute('data-asset'));
    rows[asset] = {
      delivered: parseFloat(await row.locator('[data-testid=delivered]').textContent()),
      paid: parseFloat((await row.locator('[data-testid=paid]').textContent()).replace(/,/g, '')),
    };
  }
  console.log(`[web-tests] delivered and paid as the app shows them: ${JSON.stringify(rows)}`);
  const near = (x, want, tol, what) => assert.ok(Math.abs(x - want) <= tol, `${what}: ${x}, expected ${want} ± ${tol}`);
  near(rows[assets.battery].delivered, 7.21, 0.025, 'battery delivered kWh');
  near(rows[assets.charger].delivered, 6.97, 0.025, 'V2G charger delivered kWh');
  near(rows[assets.battery].paid, rows[assets.battery].delivered * 0.1, 0.0026, 'battery paid FLEX');
  near(rows[assets.charger].paid, rows[assets.charger].delivered * 0.1, 0.0026, 'charger paid FLEX');
  await d.locator(`[data-testid=contract-${id}]`).screenshot({ path: join(RESULTS, 'dso-settled.png') });

  // The FSP sees its delivery and payout.
  await b.waitForFunction((sel) => /FLEX/.test(document.querySelector(sel)?.textContent ?? ''), `[data-testid=won] [data-testid=won-paid]`, { timeout: 30_000 });
  const won = await b.locator('[data-testid=won] [data-testid=won-delivered]').first().textContent();
  near(parseFloat(won), 7.21, 0.025, "Bob's view of his delivery");
  await shot(b, 'fsp-settled');
  const g = await open('//Alice', 'gov');
  await g.waitForSelector('[data-testid=runtime-version]:not(:empty)');
  assert.match(await g.locator('[data-testid=runtime-version]').textContent(), /flexchain \d+/);
  await shot(g, 'gov');
  for (const p of [b, c, d, g]) await p.close();
  timings.pilot = Date.now() - t0;
});

test('signs with a browser extension (the Polkadot.js extension interface, keys held outside the page)', async () => {
  // A stand-in for the extension: it injects `window.injectedWeb3['polkadot-js']` as the
  // extension does, and signs in the test process, where the key is, never in the page.
  const ferdie = keyring.addFromUri('//Ferdie');
  const page = await browser.context.newPage();
  browser.watch(page, 'extension');
  await page.exposeFunction('__extensionSign', (payload) => {
    const p = api.registry.createType('ExtrinsicPayload', payload, { version: payload.version });
    return p.sign(ferdie).signature;
  });
  await page.addInitScript((account) => {
    const accounts = [{ address: account, name: 'Ferdie (extension)', type: 'sr25519' }];
    window.injectedWeb3 = {
      'polkadot-js': {
        version: '0.0.0-test',
        enable: async () => ({
          accounts: { get: async () => accounts, subscribe: (cb) => (cb(accounts), () => {}) },
          signer: { signPayload: async (payload) => ({ id: 1, signature: await window.__extensionSign(payload) }) },
        }),
      },
    };
  }, ferdie.address);
  await page.goto(`http://127.0.0.1:${web}/?rpc=${encodeURIComponent(node.url)}#/fsp`);
  await page.waitForSelector('main[data-ready=yes]', { timeout: 30_000 });
  await page.getByRole('button', { name: 'Use browser extension' }).click();
  await page.waitForSelector(`[data-testid=account] option[value="${ferdie.address}"]`, { state: 'attached' });
  await page.selectOption('[data-testid=account]', ferdie.address);
  await page.waitForSelector('[data-testid=register-fsp]');
  await signed(page, page.locator('[data-testid=register-fsp]'));
  assert.ok((await api.query.flexMarket.fsps(ferdie.address)).isSome, 'Ferdie is an FSP, signed through the extension');
  await page.waitForSelector('[data-testid=fsp-register]', { state: 'detached' });
  await page.close();
});

test('no console errors on any page', () => {
  assert.deepEqual(browser.errors, []);
});

test('a node that goes away shows "disconnected", and the app recovers when it returns', async () => {
  const page = await open('//Dave', 'dso');
  const seen = browser.errors.length;
  await api.disconnect().catch(() => {});
  await node.stop();
  await page.waitForSelector('[data-testid=conn][data-state=disconnected]', { timeout: 30_000 });
  assert.match(await page.locator('[data-testid=conn]').textContent(), /disconnected/);
  await shot(page, 'disconnected');
  const blockBefore = await page.evaluate(() => Number(/#(\d+)/.exec(document.querySelector('[data-testid=conn]').textContent)?.[1] ?? 0));
  await node.start();
  await page.waitForSelector('[data-testid=conn][data-state=connected]', { timeout: 90_000 });
  await page.waitForFunction((n) => Number(/#(\d+)/.exec(document.querySelector('[data-testid=conn]').textContent)?.[1] ?? 0) > n, blockBefore, { timeout: 60_000 });
  await page.waitForSelector('[data-testid=request-form]');
  await shot(page, 'reconnected');
  // While the node was away the browser reports the failed WebSocket attempts; nothing else.
  const during = browser.errors.slice(seen).filter((e) => !/WebSocket|API-WS|disconnected from|ERR_CONNECTION_REFUSED|1006/i.test(e));
  assert.deepEqual(during, []);
  await page.close();
});
