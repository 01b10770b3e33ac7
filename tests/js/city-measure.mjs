// The measurements of the city benchmark (city.mjs) on the filled chain: each
// market call made once at that state with the weight it was charged and used
// (its `ExtrinsicSuccess`/`ExtrinsicFailed` event), the calls that run later or in
// `on_idle` by the weight formulas of pallets/flex-market/src/weights.rs with the
// state's components, the off-chain worker's time per request and per block (its
// `solver:` log lines), the market's RPCs on a full book, and the node's memory and
// database. Prints two markdown tables on stdout.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs every measurement and prints the tables. */
export async function measure(ctx) {
  const { api } = ctx;
  const keyring = new Keyring({ type: 'ed25519' });
  ctx.pair = (a) => keyring.addFromSeed(a.seed);
  const normal = api.consts.system.blockWeights.perClass.normal;
  ctx.limit = normal.maxTotal.unwrap().refTime.toBigInt();
  ctx.baseWeight = normal.baseExtrinsic.refTime.toBigInt();
  ctx.rows = [];
  ctx.node = [];
  const trade = await openTrade(ctx);
  await newcomer(ctx);
  await fullBookCalls(ctx);
  await requestCalls(ctx);
  await rpcLatency(ctx);
  await closeTrade(ctx, trade);
  await solutions(ctx);
  formulaRows(ctx, trade);
  workerTimes(ctx);
  nodeSize(ctx);
  print(ctx);
}

// ---------------------------------------------------------------- calls

/** Signs and sends `tx`; once in a block, returns its events, weights and error. */
async function call(ctx, name, at, tx, who) {
  const { api } = ctx;
  const signer = ctx.pair(who);
  const declared = (await tx.paymentInfo(signer)).weight.refTime.toBigInt();
  const events = await new Promise((resolve, reject) => {
    tx.signAndSend(signer, ({ status, events }) => status.isInBlock && resolve(events)).catch(reject);
  });
  const done = events.find(({ event }) => api.events.system.ExtrinsicSuccess.is(event) || api.events.system.ExtrinsicFailed.is(event));
  const used = done.event.data.dispatchInfo.weight.refTime.toBigInt();
  let outcome = 'ok';
  if (api.events.system.ExtrinsicFailed.is(done.event)) {
    const err = done.event.data.dispatchError;
    outcome = err.isModule ? api.registry.findMetaError(err.asModule).name : err.toString();
  }
  ctx.rows.push({ name, at, declared, used, outcome });
  console.error(`[city] ${name} (${at}): ${outcome}, ${Number(used) / 1e6} µs`);
  return { events, outcome, field: (event, key) => pick(api, events, event, key) };
}

/** Field `key` of the first `flexMarket.<event>` among `events`. */
function pick(api, events, event, key) {
  const found = events.find(({ event: e }) => api.events.flexMarket[event].is(e));
  if (!found) throw new Error(`no ${event} event`);
  return found.event.data[key].toNumber();
}

/** Assets of the city at `location`. */
const assetsAt = (ctx, location) => ctx.filled.assets.filter((a) => a.spec.location === location);

/**
 * A small trade whose window starts in a few minutes: three offers, a request, the
 * DSO's merit order and the purchase. Its delivery is reported by `closeTrade`.
 */
async function openTrade(ctx) {
  const { api, city, people } = ctx;
  const location = city.small[0];
  const dso = people.dsos[city.dsoOf(location)];
  const now = (await api.query.timestamp.now()).toNumber();
  const window = { start: Math.ceil((now + 4 * MINUTE) / MINUTE) * MINUTE };
  window.end = window.start + 15 * MINUTE;
  const sellers = assetsAt(ctx, location).slice(0, 3);
  for (const a of sellers) {
    await call(ctx, 'createOffer', `book of ${location}: ${assetsAt(ctx, location).length} offers`, api.tx.flexMarket.createOffer({
      asset: a.id, window, direction: 'Up', powerW: a.spec.maxExportW, price: 100_000_000_000n, divisibility: 'AllOrNothing',
    }), a.owner);
  }
  const powerW = sellers.reduce((n, a) => n + a.spec.maxExportW, 0);
  const made = await call(ctx, 'createRequest', `${ctx.filled.requestCount} requests open`, api.tx.flexMarket.createRequest({
    location, window, direction: 'Up', powerW, maxPrice: 300_000_000_000n, gateClosure: window.start - 30_000,
    partial: false, pricing: 'PayAsBid', maxOverW: 0,
  }), dso);
  const request = made.field('RequestCreated', 'request');
  const size = (await api.query.flexMarket.bookSize([location, 'Up'])).toNumber();
  await call(ctx, 'matchRequest', `book of ${size} offers, 3 eligible`, api.tx.flexMarket.matchRequest(request), dso);
  const preview = await rpc(ctx, 'flexMarket_matchPreview', [request]);
  await call(ctx, 'acceptMatch', `${preview.result.fills.length} fills`, api.tx.flexMarket.acceptMatch(request, preview.result.cost), dso);
  return { request, window, location, fills: preview.result.fills.length };
}

/** After the trade's window starts, its oracle reports the first fill. */
async function closeTrade(ctx, trade) {
  const { api, city, people } = ctx;
  while ((await api.query.timestamp.now()).toNumber() < trade.window.start) await sleep(3_000);
  const oracle = people.oracles[city.dsoOf(trade.location)];
  await call(ctx, 'reportDelivery', `fill 0 of ${trade.fills}`, api.tx.flexMarket.reportDelivery(trade.request, 0, 1_000, `0x${'11'.repeat(32)}`), oracle);
}

/** A newcomer registers as an FSP, registers an asset, offers, edits, withdraws, leaves. */
async function newcomer(ctx) {
  const { api, city, people, filled } = ctx;
  const location = city.small[20];
  const who = people.newcomer;
  const dso = people.dsos[city.dsoOf(location)];
  await call(ctx, 'registerFsp', 'a new account', api.tx.flexMarket.registerFsp(), who);
  const assets = `${filled.assets.length} assets`;
  const registered = await call(ctx, 'registerAsset', assets, api.tx.flexMarket.registerAsset({
    kind: 'Battery', location, maxExportW: 50_000, maxImportW: 50_000, capacityWh: 100_000, minSocPercent: 20, device: 'newcomer',
  }), who);
  const asset = registered.field('AssetRegistered', 'asset');
  await call(ctx, 'setAssetStatus', `${assets}; prequalify, 0 offers`, api.tx.flexMarket.setAssetStatus(asset, 'Prequalified'), dso);
  const spec = (price) => ({
    asset, window: { start: filled.start, end: filled.start + HOUR }, direction: 'Up', powerW: 40_000, price,
    divisibility: { Divisible: { minPowerW: 10_000 } },
  });
  const offer = (await call(ctx, 'createOffer', `${filled.offers} offers`, api.tx.flexMarket.createOffer(spec(90_000_000_000n)), who))
    .field('OfferCreated', 'offer');
  await call(ctx, 'updateOffer', 'held by no proposal', api.tx.flexMarket.updateOffer(offer, spec(80_000_000_000n)), who);
  await call(ctx, 'cancelOffer', 'held by no proposal', api.tx.flexMarket.cancelOffer(offer), who);
  await call(ctx, 'createOffer', `${filled.offers} offers`, api.tx.flexMarket.createOffer(spec(90_000_000_000n)), who);
  await call(ctx, 'deregisterAsset', '1 open offer', api.tx.flexMarket.deregisterAsset(asset), who);
}

/** An offer refused by a full book; an asset with two offers in a full book suspended. */
async function fullBookCalls(ctx) {
  const { api, city, people, filled } = ctx;
  const [a] = assetsAt(ctx, city.full[1]);
  await call(ctx, 'createOffer', `full book (${ctx.book})`, api.tx.flexMarket.createOffer({
    asset: a.id, window: { start: filled.start, end: filled.start + HOUR }, direction: 'Up', powerW: 1_000,
    price: 90_000_000_000n, divisibility: 'AllOrNothing',
  }), a.owner);
  const [b] = assetsAt(ctx, city.full[2]);
  await call(ctx, 'setAssetStatus', 'suspend, 2 offers in a full book', api.tx.flexMarket.setAssetStatus(b.id, 'Suspended'), people.dsos[city.dsoOf(city.full[2])]);
}

/** A request posted, edited and cancelled among the day's requests. */
async function requestCalls(ctx) {
  const { api, city, people, filled } = ctx;
  const location = city.small[21];
  const dso = people.dsos[city.dsoOf(location)];
  const window = { start: filled.start + 3 * HOUR, end: filled.start + 4 * HOUR };
  const spec = (powerW) => ({
    location, window, direction: 'Up', powerW, maxPrice: 300_000_000_000n, gateClosure: window.start - 15 * MINUTE,
    partial: true, pricing: 'PayAsClear', maxOverW: 0,
  });
  const open = `${filled.requestCount} requests open`;
  const request = (await call(ctx, 'createRequest', open, api.tx.flexMarket.createRequest(spec(100_000)), dso)).field('RequestCreated', 'request');
  await call(ctx, 'updateRequest', 'no proposal', api.tx.flexMarket.updateRequest(request, spec(120_000)), dso);
  await call(ctx, 'cancelRequest', 'no proposal', api.tx.flexMarket.cancelRequest(request), dso);
}

/** The solutions the off-chain worker submitted since the requests were made, from their blocks. */
async function solutions(ctx) {
  const { api } = ctx;
  const head = (await api.rpc.chain.getHeader()).number.toNumber();
  const found = [];
  for (let n = ctx.filled.requestBlock; n <= head; n++) {
    const hash = await api.rpc.chain.getBlockHash(n);
    const [block, events] = await Promise.all([api.rpc.chain.getBlock(hash), api.query.system.events.at(hash)]);
    block.block.extrinsics.forEach((xt, i) => {
      if (xt.method.section !== 'flexMarket' || xt.method.method !== 'submitSolution') return;
      const done = events.find(({ phase, event }) => phase.isApplyExtrinsic && phase.asApplyExtrinsic.toNumber() === i
        && (api.events.system.ExtrinsicSuccess.is(event) || api.events.system.ExtrinsicFailed.is(event)));
      found.push({ fills: xt.method.args[1].length, used: done.event.data.dispatchInfo.weight.refTime.toBigInt(), ok: api.events.system.ExtrinsicSuccess.is(done.event) });
    });
  }
  if (!found.length) return;
  const most = found.reduce((a, b) => (b.used > a.used ? b : a));
  const sample = api.tx.flexMarket.submitSolution(ctx.filled.requests.near[0], []);
  const declared = (await sample.paymentInfo(ctx.pair(ctx.people.newcomer))).weight.refTime.toBigInt();
  ctx.rows.push({
    name: 'submitSolution', at: `the worker's, ${found.length} in blocks; the largest: ${most.fills} fills`,
    declared, used: most.used, outcome: `${found.filter((s) => s.ok).length} ok`,
  });
}

// ---------------------------------------------------------------- RPC

/** Calls `method` over HTTP `n` times; the median time, the answer and its size. */
async function rpc(ctx, method, params, n = 1) {
  const http = ctx.url.replace(/^ws/, 'http');
  const times = [];
  let text;
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const res = await fetch(http, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    });
    text = await res.text();
    times.push(performance.now() - started);
  }
  const answer = JSON.parse(text);
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], bytes: text.length, result: answer.result, error: answer.error };
}

/** The market's reads on a full book, before and after the request has a stored match. */
async function rpcLatency(ctx) {
  const { api, people, city } = ctx;
  const id = ctx.filled.requests.rpc;
  const show = (what, r, count) => ctx.node.push([what, r.error ? `error ${r.error.code}: ${r.error.message}`
    : `${r.ms.toFixed(0)} ms, ${count(r.result)}, ${(r.bytes / 1024).toFixed(0)} KiB`]);
  const offers = (r) => `${r.length} offers`;
  show(`flexMarket_eligibleOffers(request) at a full book`, await rpc(ctx, 'flexMarket_eligibleOffers', [id], 5), offers);
  show(`… with {limit: 1000}`, await rpc(ctx, 'flexMarket_eligibleOffers', [id, { limit: 1_000 }], 5), offers);
  const walk = await walkPages(ctx, id);
  if (walk) ctx.node.push(['… every page of 1,000, one after the other', `${walk.ms.toFixed(0)} ms for ${walk.count} offers in ${walk.pages} pages`]);
  show('flexMarket_matchPreview(request) at a full book, merit order', await rpc(ctx, 'flexMarket_matchPreview', [id], 5),
    (p) => (p ? `${p.fills.length} fills` : 'null'));
  const dso = people.dsos[city.dsoOf(city.full[0])];
  const size = (await api.query.flexMarket.bookSize([city.full[0], 'Up'])).toNumber();
  await call(ctx, 'matchRequest', `full book: ${size} offers, all eligible`, api.tx.flexMarket.matchRequest(id), dso);
  show('flexMarket_matchPreview(request) at a full book, stored', await rpc(ctx, 'flexMarket_matchPreview', [id], 5),
    (p) => (p ? `${p.fills.length} fills` : 'null'));
  show('flexMarket_openRequests(location)', await rpc(ctx, 'flexMarket_openRequests', [city.full[0]], 5), (r) => `${r.length} requests`);
}

/** Lists every eligible offer of `id` a page of 1,000 at a time; undefined without paging. */
async function walkPages(ctx, id) {
  const started = performance.now();
  let after;
  let count = 0;
  let pages = 0;
  for (;;) {
    const r = await rpc(ctx, 'flexMarket_eligibleOffers', [id, { limit: 1_000, after }]);
    if (r.error) return undefined;
    count += r.result.length;
    pages++;
    if (r.result.length < 1_000) break;
    after = r.result.at(-1);
  }
  return { ms: performance.now() - started, count, pages };
}

// ---------------------------------------------------------------- by formula

/** The weight functions of weights.rs as (components) → ref time in ps, with our DbWeight. */
function weightFunctions() {
  const root = new URL('../../', import.meta.url);
  const source = readFileSync(new URL('pallets/flex-market/src/weights.rs', root), 'utf8');
  const impl = source.slice(source.indexOf('for SubstrateWeight<T>'), source.indexOf('impl WeightInfo for ()'));
  const db = readFileSync(new URL('runtime/src/weights/paritydb_weights.rs', root), 'utf8');
  const num = (s) => Number(s.replaceAll('_', ''));
  const read = num(/read: ([\d_]+) \*/.exec(db)[1]) * 1_000;
  const write = num(/write: ([\d_]+) \*/.exec(db)[1]) * 1_000;
  const fns = {};
  for (const [, name, body] of impl.matchAll(/fn (\w+)\([^)]*\) -> Weight \{([\s\S]*?)\n\t\}/g)) {
    fns[name] = (c = 0) => {
      let ps = 0;
      for (const line of body.split('\n')) {
        const per = /saturating_mul\(\w\.into\(\)\)/.test(line) ? c : 1;
        let m;
        if ((m = /from_parts\(([\d_]+), 0\)/.exec(line))) ps += num(m[1]) * per;
        else if ((m = /reads\(\(?([\d_]+)/.exec(line))) ps += num(m[1]) * per * read;
        else if ((m = /writes\(\(?([\d_]+)/.exec(line))) ps += num(m[1]) * per * write;
      }
      return BigInt(ps);
    };
  }
  return { fns, read: BigInt(read), write: BigInt(write) };
}

/** Rows for what runs later or in `on_idle`, by formula at this state. */
function formulaRows(ctx, trade) {
  const { fns: w, read, write } = weightFunctions();
  const row = (name, at, used, declared) => ctx.rows.push({ name, at, declared, used, outcome: 'by formula' });
  row('settle', `${trade.fills} fills`, w.settle(trade.fills), w.settle(1_000));
  row('claimPayout', '', w.claim_payout(), w.claim_payout());
  row('on_idle: close a gate, merit order', `full book (${ctx.book}), no proposal`, 3n * read + w.match_request(ctx.book) + w.check_proposal(0));
  row('on_idle: expire a request', 'no proposal', read + w.expire_request(0));
  row('on_idle: prune a request', `${trade.fills} fills`, read + w.prune(trade.fills));
  const sweep = 2n * read + write + 512n * w.expire_offer();
  row('on_idle: book sweep, one block', '512 entries', sweep);
  const entries = ctx.filled.offers;
  const blocks = Math.ceil(entries / 512);
  ctx.node.push(['book sweep: one pass over the books', `${entries} entries at 512 a block: ${blocks} blocks, ${(blocks * 6 / 60).toFixed(0)} min of 6-second blocks`]);
}

// ---------------------------------------------------------------- the node

/** The worker's time per request and per block, from its `solver:` log lines. */
function workerTimes(ctx) {
  const text = readFileSync(ctx.log, 'utf8');
  const per = [...text.matchAll(/solver: request (\d+): (.*?); (\d+) offers read in (\d+) ms, solved in (\d+) ms/g)]
    .map((m) => ({ offers: Number(m[3]), read: Number(m[4]), solve: Number(m[5]), submitted: m[2].startsWith('submitted') }));
  const blocks = [...text.matchAll(/solver: block (\d+): (\d+) requests in (\d+) ms/g)].map((m) => ({ requests: Number(m[2]), ms: Number(m[3]) }));
  if (!per.length) {
    const lines = (text.match(/solver: /g) ?? []).length;
    ctx.node.push(["off-chain worker", `${lines} solver: lines, without timings (a node from before the timed log)`]);
    return;
  }
  const big = per.filter((p) => p.offers >= ctx.book * 0.9);
  const rest = per.filter((p) => p.offers < ctx.book * 0.9);
  const stats = (list) => {
    const total = list.map((p) => p.read + p.solve).sort((a, b) => a - b);
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    return `median ${median(total)} ms (reading ${median(list.map((p) => p.read))}, solving ${median(list.map((p) => p.solve))}), `
      + `max ${total.at(-1)} ms over ${list.length} runs, ${list.filter((p) => p.submitted).length} submitted`;
  };
  if (big.length) ctx.node.push([`off-chain worker per request, full book (${big[0].offers} eligible offers)`, stats(big)]);
  if (rest.length) ctx.node.push(['off-chain worker per request, other books', stats(rest)]);
  if (blocks.length) {
    const ms = blocks.map((b) => b.ms).sort((a, b) => a - b);
    const most = Math.max(...blocks.map((b) => b.requests));
    ctx.node.push(['off-chain worker per block', `median ${ms[Math.floor(ms.length / 2)]} ms, max ${ms.at(-1)} ms over ${blocks.length} blocks; at most ${most} requests in a block's horizon`]);
  }
}

/** The fill's duration, the database's size and the node's memory. */
function nodeSize(ctx) {
  for (const p of ctx.filled.phases) ctx.node.push([`fill: ${p.count} ${p.name}`, `${p.seconds.toFixed(0)} s (${(p.count / p.seconds).toFixed(0)}/s)${p.resent ? `, ${p.resent} resent after stalls` : ''}`]);
  ctx.node.push(['fill, all of it', `${(ctx.fillSeconds / 60).toFixed(1)} min`]);
  ctx.node.push(['state on disk (the whole database)', `${(du(ctx.base) / 2 ** 20).toFixed(0)} MiB`]);
  const status = readFileSync(`/proc/${ctx.pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)[1]);
  ctx.node.push(['node resident memory', `${(kb('VmRSS') / 1024).toFixed(0)} MiB now, ${(kb('VmHWM') / 1024).toFixed(0)} MiB at most`]);
}

/** Disk use of everything under `dir`, in bytes. */
function du(dir) {
  let bytes = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const s = statSync(path);
    bytes += s.isDirectory() ? du(path) : s.blocks * 512;
  }
  return bytes;
}

// ---------------------------------------------------------------- the tables

function print(ctx) {
  const us = (ps) => (ps === undefined ? '-' : (Number(ps) / 1e6).toFixed(0));
  const share = (ps) => `${((Number(ps + ctx.baseWeight) / Number(ctx.limit)) * 100).toFixed(2)} %`;
  console.log(`| call | at | charged up front (µs) | used (µs) | share of a block | outcome |`);
  console.log('|---|---|---|---|---|---|');
  for (const r of ctx.rows) {
    console.log(`| ${r.name} | ${r.at} | ${us(r.declared)} | ${us(r.used)} | ${share(r.used)} | ${r.outcome} |`);
  }
  console.log(`\nShare: of the ${Number(ctx.limit) / 1e9} s a block's transactions may use, with the base of an extrinsic (${us(ctx.baseWeight)} µs).\n`);
  console.log('| the node | figure |');
  console.log('|---|---|');
  for (const [what, figure] of ctx.node) console.log(`| ${what} | ${figure} |`);
}
