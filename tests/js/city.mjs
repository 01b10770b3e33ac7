// A city on a dev chain (scripts/city-bench.sh): 100,000 prequalified assets in
// 200 locations of 10 DSOs, 10 locations with a full book (10,000 offers) and the
// rest with a few hundred each, 1,000 requests over a day; then what each market
// call weighs at that state, what the off-chain worker takes per request, how fast
// the node answers the market's RPCs on a full book, and the node's size
// (city-measure.mjs).
//
//   node city.mjs genesis
//       prints what the city adds to a chain spec's genesis (JSON: `dsos` and
//       `fsps` for flexMarket, `balances` as [address, "planks"])
//   node city.mjs run ws://127.0.0.1:PORT LOG PID BASE_PATH
//       fills the chain started from that spec and prints the table (markdown);
//       LOG is the node's log (the worker's `solver:` lines), PID and BASE_PATH
//       the node's process and database, for its memory and size on disk
//
// CITY_SCALE (default 1) scales assets, books and requests for a quick trial.
import { ApiPromise, WsProvider } from '@polkadot/api';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { measure } from './city-measure.mjs';
import { account, chainOf, checkEncoders, encoders, seedOf, signed } from './rawtx.mjs';

const FLEX = 10n ** 12n;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const SCALE = Number(process.env.CITY_SCALE ?? 1);
const DSOS = 10;
const LOCATIONS_PER_DSO = 20;
const FSPS = 100;
/** Offers in a full book: the runtime's `MaxOffersPerBook`. */
export const BOOK = Math.round(10_000 * SCALE);
const ASSETS = Math.round(100_000 * SCALE);
const REQUESTS = Math.max(60, Math.round(1_000 * SCALE));
/** Requests at full books (and as many at others) whose gates close during the run. */
const NEAR = 10;
/**
 * Most of our extrinsics in the pool at once: about two blocks' worth. A fuller pool
 * only makes the node revalidate more per block (at 20,000 the fill once stalled).
 */
const IN_POOL = 8_000;
/** Most submissions awaiting the node's answer. */
const IN_FLIGHT = 512;
/** No inclusion for this long while extrinsics are pending: resend the missing ones. */
const STALL_MS = 20_000;
/**
 * The pool's answers that mean "not taken now, resend later" (sc-rpc's author error
 * codes): temporarily banned, already imported, priority too low, immediately dropped.
 */
const RETRIABLE = new Set([1012, 1013, 1014, 1016]);
const codeOf = (e) => Number(/^(-?\d+):/.exec(e.message ?? '')?.[1]);

/** The city's locations (ids 101-300), 20 per DSO; each DSO's first has a full book. */
export const city = {
  locations: Array.from({ length: DSOS * LOCATIONS_PER_DSO }, (_, i) => 101 + i),
  dsoOf: (location) => Math.floor((location - 101) / LOCATIONS_PER_DSO),
  full: Array.from({ length: DSOS }, (_, d) => 101 + d * LOCATIONS_PER_DSO),
};
city.small = city.locations.filter((l) => !city.full.includes(l));

/** The city's accounts: ed25519 keys from fixed seeds. */
export const people = {
  dsos: Array.from({ length: DSOS }, (_, d) => account(seedOf(`dso/${d}`))),
  oracles: Array.from({ length: DSOS }, (_, d) => account(seedOf(`oracle/${d}`))),
  fsps: Array.from({ length: FSPS }, (_, f) => account(seedOf(`fsp/${f}`))),
  /** Funded, not yet an FSP. */
  newcomer: account(seedOf('newcomer')),
};

/** A seeded pseudo-random generator (mulberry32): the same city every run. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- genesis

/** What the city adds to the genesis: its DSOs with locations and oracles, FSPs, funds. */
function genesis() {
  const name = (l) => [...Buffer.from(`Feeder ${l}`)];
  const dsos = people.dsos.map((dso, d) => [
    dso.address,
    city.locations.filter((l) => city.dsoOf(l) === d).map((l) => [l, name(l)]),
    [people.oracles[d].address],
  ]);
  const funded = [...people.dsos, ...people.oracles, ...people.fsps, people.newcomer];
  const balances = funded.map((a) => [a.address, (10_000n * FLEX).toString()]);
  return { dsos, fsps: people.fsps.map((f) => f.address), balances };
}

// ---------------------------------------------------------------- submitting in bulk

/**
 * Sends encoded calls signed by the city's accounts, keeping at most `IN_POOL` of
 * them in the pool; counts them in by their senders' nonces. Keeps each extrinsic
 * until its nonce is used, and resends the pending ones when inclusion stalls (a
 * pool under load may drop some, which leaves every later nonce of that sender
 * waiting).
 */
class Pump {
  constructor(api, provider, senders) {
    this.api = api;
    this.provider = provider;
    this.chain = chainOf(api);
    this.senders = senders.map((s) => s.address);
    this.nonces = new Map();
    /** Per sender, its extrinsics not yet known to be in a block, by nonce. */
    this.pending = new Map(this.senders.map((a) => [a, new Map()]));
    this.submitted = 0;
    this.included = 0;
    this.flying = 0;
    this.resent = 0;
  }

  /** Reads the senders' nonces; call once before sending. */
  async start() {
    const infos = await this.api.query.system.account.multi(this.senders);
    this.first = infos.map((i) => i.nonce.toNumber());
    this.senders.forEach((a, i) => this.nonces.set(a, this.first[i]));
    this.progressAt = Date.now();
  }

  /** Signs `call` for `signer` with its next nonce and submits it. */
  async send(signer, call) {
    if (this.failure) throw this.failure;
    const nonce = this.nonces.get(signer.address);
    this.nonces.set(signer.address, nonce + 1);
    const xt = signed(this.chain, signer, nonce, call);
    this.pending.get(signer.address).set(nonce, xt);
    this.submitted++;
    await this.submit(xt);
    if (this.submitted - this.included >= IN_POOL) await this.until(() => this.submitted - this.included < IN_POOL / 2);
  }

  /** Submits one extrinsic, at most `IN_FLIGHT` unanswered; a refusal other than "later" fails the fill. */
  async submit(xt) {
    this.flying++;
    this.provider
      .send('author_submitExtrinsic', [xt])
      .catch((e) => {
        if (!RETRIABLE.has(codeOf(e))) this.failure ??= new Error(`the node refused an extrinsic: ${e.message}`);
      })
      .finally(() => this.flying--);
    while (this.flying >= IN_FLIGHT) await sleep(2);
  }

  /** Waits until every extrinsic sent is in a block. */
  drain() {
    return this.until(() => this.included >= this.submitted);
  }

  /** Polls the senders' nonces until `done()`; resends the pending ones after `STALL_MS` without progress. */
  async until(done) {
    for (;;) {
      const infos = await this.api.query.system.account.multi(this.senders);
      const included = infos.reduce((n, info, i) => n + info.nonce.toNumber() - this.first[i], 0);
      if (included > this.included) this.progressAt = Date.now();
      this.included = included;
      infos.forEach((info, i) => forget(this.pending.get(this.senders[i]), info.nonce.toNumber()));
      if (this.failure) throw this.failure;
      if (done()) return;
      if (Date.now() - this.progressAt > STALL_MS) await this.resend();
      await sleep(1_000);
    }
  }

  /** Resends every pending extrinsic, lowest nonces first. */
  async resend() {
    const missing = [...this.pending.values()].flatMap((byNonce) => [...byNonce.values()]);
    console.error(`[city] nothing included for ${STALL_MS / 1000} s: resending ${missing.length} extrinsics`);
    for (const xt of missing) await this.submit(xt);
    this.resent += missing.length;
    this.progressAt = Date.now();
  }
}

/** Drops the extrinsics whose nonces are below `next` (used on chain); they are kept in nonce order. */
function forget(byNonce, next) {
  for (const nonce of byNonce.keys()) {
    if (nonce >= next) break;
    byNonce.delete(nonce);
  }
}

/** Runs fill phase `name` of `count` extrinsics until all are in blocks; prints its rate. */
async function phase(name, count, pump, send) {
  const started = Date.now();
  const resentBefore = pump.resent;
  await send();
  await pump.drain();
  const seconds = (Date.now() - started) / 1000;
  const resent = pump.resent - resentBefore;
  console.error(`[city] ${name}: ${count} in ${seconds.toFixed(1)} s (${(count / seconds).toFixed(0)}/s), ${resent} resent`);
  return { name, count, seconds, resent };
}

// ---------------------------------------------------------------- the plan

/** Assets of 3.7-100 kW: half at the full-book locations (two offers each), the rest spread. */
function planAssets() {
  const rng = random(1);
  const atFull = city.full.length * (BOOK / 2);
  return Array.from({ length: ASSETS }, (_, k) => {
    const location = k < atFull ? city.full[k % city.full.length] : city.small[(k - atFull) % city.small.length];
    const powerW = 3_700 + Math.floor(rng() * 96_300);
    return {
      kind: ['Battery', 'V2gCharger'][k % 2], location, maxExportW: powerW, maxImportW: powerW,
      capacityWh: powerW * 2, minSocPercent: 20, device: `city-${k}`,
    };
  });
}

/**
 * The offers of the assets (`{id, owner, spec}`) at 0.05-0.25 FLEX/kWh, half
 * divisible: at a full book two per asset (its whole power for the first hour from
 * `start`, half of it for two hours), elsewhere one, in an hour of the day.
 */
function planOffers(assets, start) {
  const rng = random(2);
  const offer = (a, window, direction, powerW) => ({
    asset: a.id, window, direction, powerW,
    price: 50_000_000_000n + BigInt(Math.floor(rng() * 200)) * 1_000_000_000n,
    divisibility: a.id % 2 ? { Divisible: { minPowerW: Math.ceil(powerW / 4) } } : 'AllOrNothing',
  });
  return assets.flatMap((a) => {
    const p = a.spec.maxExportW;
    if (city.full.includes(a.spec.location)) {
      return [
        offer(a, { start, end: start + HOUR }, 'Up', p),
        offer(a, { start, end: start + 2 * HOUR }, 'Up', Math.ceil(p / 2)),
      ];
    }
    const h = a.id % 24;
    return [offer(a, { start: start + h * HOUR, end: start + (h + 1) * HOUR }, a.id % 5 ? 'Up' : 'Down', p)];
  });
}

/**
 * A day of requests: `NEAR` at full books (5-32 % of the book's power) and as many
 * elsewhere whose gates close within minutes, so that the worker mines them; one at
 * a full book whose gate closes later (for the RPC measurements); the rest spread
 * over the day, gates 15 minutes before their windows.
 */
function planRequests(now, start, bookPowerW) {
  const rng = random(3);
  const spec = (location, window, powerW, gateClosure) => ({
    location, window, direction: 'Up', powerW, maxPrice: 300_000_000_000n, gateClosure,
    partial: false, pricing: 'PayAsBid', maxOverW: Math.floor(powerW / 50),
  });
  const first = { start, end: start + HOUR };
  const gate = (i) => now + (3 + i / 2) * MINUTE;
  const near = [
    ...city.full.slice(0, NEAR).map((l, i) => spec(l, first, Math.floor(bookPowerW(l) * (0.05 + 0.03 * i)), gate(i))),
    ...city.small.slice(1, NEAR + 1).map((l, i) => spec(l, first, 20_000 + 5_000 * i, gate(i))),
  ];
  const rpc = spec(city.full[0], first, Math.floor(bookPowerW(city.full[0]) * 0.2), start - 5 * MINUTE);
  const spread = REQUESTS - near.length - 1;
  const rest = Array.from({ length: spread }, (_, j) => {
    const begin = start + HOUR + Math.floor((j * 23 * HOUR) / spread / MINUTE) * MINUTE;
    const window = { start: begin, end: begin + (1 + Math.floor(rng() * 4)) * 15 * MINUTE };
    const location = city.locations[Math.floor(rng() * city.locations.length)];
    return spec(location, window, 20_000 + Math.floor(rng() * 480) * 1_000, begin - 15 * MINUTE);
  });
  return { near, all: [...near, rpc, ...rest] };
}

// ---------------------------------------------------------------- the fill

/** Fills the chain; returns the phases' times, the assets, offers' start and request ids. */
async function fill(api, provider) {
  const encode = encoders(api);
  checkEncoders(api, encode, samples());
  const pump = new Pump(api, provider, [...people.fsps, ...people.dsos]);
  await pump.start();
  const phases = [];
  const plan = planAssets();
  const firstAsset = (await api.query.flexMarket.nextAssetId()).toNumber();
  phases.push(await phase('registerAsset', ASSETS, pump, async () => {
    for (let k = 0; k < ASSETS; k++) await pump.send(people.fsps[k % FSPS], encode.registerAsset(plan[k]));
  }));
  const assets = await readAssets(api, firstAsset, ASSETS);
  phases.push(await phase('setAssetStatus', ASSETS, pump, async () => {
    for (const a of assets) await pump.send(people.dsos[city.dsoOf(a.spec.location)], encode.setAssetStatus(a.id, 'Prequalified'));
  }));
  const start = Math.ceil((Date.now() + 25 * MINUTE) / MINUTE) * MINUTE;
  const offers = planOffers(assets, start);
  const owner = new Map(assets.map((a) => [a.id, a.owner]));
  phases.push(await phase('createOffer', offers.length, pump, async () => {
    for (const o of offers) await pump.send(owner.get(o.asset), encode.createOffer(o));
  }));
  await checkBooks(api, offers.length);
  const firstRequest = (await api.query.flexMarket.nextRequestId()).toNumber();
  const requestBlock = (await api.rpc.chain.getHeader()).number.toNumber();
  const requests = planRequests(Date.now(), start, bookPower(assets, offers));
  phases.push(await phase('createRequest', requests.all.length, pump, async () => {
    for (const r of requests.all) await pump.send(people.dsos[city.dsoOf(r.location)], encode.createRequest(r));
  }));
  const made = (await api.query.flexMarket.nextRequestId()).toNumber() - firstRequest;
  if (made !== requests.all.length) throw new Error(`${made} of ${requests.all.length} requests were made`);
  // Several DSOs send at once, so ids follow inclusion, not the plan: find each
  // planned request by what it asks.
  const key = (r) => `${r.location}:${r.window.start}:${r.powerW}:${r.gateClosure}`;
  const byKey = new Map();
  for (const [k, v] of await api.query.flexMarket.requests.entries()) {
    const r = v.unwrap().spec;
    const id = k.args[0].toNumber();
    if (id >= firstRequest) {
      byKey.set(key({ location: r.location.toNumber(), window: { start: r.window.start.toNumber() }, powerW: r.powerW.toNumber(), gateClosure: r.gateClosure.toNumber() }), id);
    }
  }
  const idOf = (r) => {
    const id = byKey.get(key(r));
    if (id === undefined) throw new Error(`no request on chain for ${key(r)}`);
    return id;
  };
  const ids = { near: requests.near.map(idOf), rpc: idOf(requests.all[requests.near.length]) };
  return { phases, assets, offers: offers.length, start, requests: ids, requestCount: made, requestBlock };
}

/** The power (W) a location's book offers up: each asset's largest offer. */
function bookPower(assets, offers) {
  const best = new Map();
  for (const o of offers) if (o.direction === 'Up') best.set(o.asset, Math.max(best.get(o.asset) ?? 0, o.powerW));
  const byLocation = new Map();
  for (const a of assets) byLocation.set(a.spec.location, (byLocation.get(a.spec.location) ?? 0) + (best.get(a.id) ?? 0));
  return (l) => byLocation.get(l) ?? 0;
}

/** The assets from `first` on, with their owner (one of the city's FSPs) and location. */
async function readAssets(api, first, count) {
  const byKey = new Map(people.fsps.map((f) => [f.pub.toString('hex'), f]));
  const out = [];
  for (let i = 0; i < count; i += 2_000) {
    const ids = Array.from({ length: Math.min(2_000, count - i) }, (_, k) => first + i + k);
    const records = await api.query.flexMarket.assets.multi(ids);
    records.forEach((r, k) => {
      if (r.isNone) throw new Error(`asset ${ids[k]} was not registered`);
      const a = r.unwrap();
      out.push({
        id: ids[k], owner: byKey.get(a.owner.toHex().slice(2)),
        spec: { location: a.spec.location.toNumber(), maxExportW: a.spec.maxExportW.toNumber() },
      });
    });
  }
  return out;
}

/** Throws unless the books hold `count` offers and every full book `BOOK`. */
async function checkBooks(api, count) {
  const keys = city.locations.flatMap((l) => [[l, 'Up'], [l, 'Down']]);
  const sizes = (await api.query.flexMarket.bookSize.multi(keys)).map((s) => s.toNumber());
  const total = sizes.reduce((n, s) => n + s, 0);
  if (total !== count) throw new Error(`${total} offers in the books, ${count} sent`);
  const fullSizes = city.full.map((l) => sizes[keys.findIndex(([k, d]) => k === l && d === 'Up')]);
  if (fullSizes.some((n) => n !== BOOK)) throw new Error(`the full books hold ${fullSizes.join(', ')}, not ${BOOK}`);
}

/** One of each bulk call, for `checkEncoders`. */
function samples() {
  const w = { start: 1_800_000_000_000, end: 1_800_000_900_000 };
  return [
    ['registerAsset', [{ kind: 'V2gCharger', location: 101, maxExportW: 99_999, maxImportW: 7, capacityWh: 70_000, minSocPercent: 20, device: 'city-12345' }]],
    ['setAssetStatus', [70_000, 'Prequalified']],
    ['createOffer', [{ asset: 5, window: w, direction: 'Down', powerW: 1_234, price: 123_000_000_000n, divisibility: { Divisible: { minPowerW: 300 } } }]],
    ['createOffer', [{ asset: 5, window: w, direction: 'Up', powerW: 1_234, price: 1n, divisibility: 'AllOrNothing' }]],
    ['createRequest', [{ location: 300, window: w, direction: 'Up', powerW: 4_000_000, maxPrice: 300_000_000_000n, gateClosure: 1_799_999_000_000, partial: false, pricing: 'PayAsBid', maxOverW: 80_000 }]],
  ];
}

// ---------------------------------------------------------------- main

async function run([url, log, pid, base]) {
  const provider = new WsProvider(url, 1_000, {}, 300_000);
  const api = await ApiPromise.create({ provider, noInitWarn: true });
  provider.on('disconnected', () => {
    console.error('[city] the node closed the connection');
    process.exit(1);
  });
  await cryptoWaitReady();
  const started = Date.now();
  const filled = await fill(api, provider);
  const fillSeconds = (Date.now() - started) / 1000;
  console.error(`[city] filled in ${fillSeconds.toFixed(0)} s; measuring`);
  await measure({ api, url, city, people, filled, fillSeconds, log, pid, base, book: BOOK });
  await api.disconnect();
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'genesis') console.log(JSON.stringify(genesis()));
else if (cmd === 'run') {
  run(args)
    .then(() => process.exit(0))
    .catch((e) => {
      console.error(`[city] ${e.stack ?? e}`);
      process.exit(1);
    });
} else {
  console.error('usage: node city.mjs genesis | run URL LOG PID BASE_PATH');
  process.exit(2);
}
