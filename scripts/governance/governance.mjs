// Governance of a running Flexchain through @polkadot/api: motions of the council
// and of the technical committee, and runtime upgrades by the path the runtime
// requires (the committee whitelists `system.authorizeUpgrade`, the council
// dispatches it as Root, anyone applies the authorized code).
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';

/** The chain's address format. */
export const SS58_PREFIX = 7171;

/** Connects to a node's WebSocket RPC; gives up after `timeoutMs`. */
export async function connect(url, timeoutMs = 60_000) {
  const provider = new WsProvider(url, 500);
  const deadline = Date.now() + timeoutMs;
  while (!provider.isConnected) {
    if (Date.now() > deadline) {
      await provider.disconnect();
      throw new Error(`no node answers at ${url}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await cryptoWaitReady();
  return ApiPromise.create({ provider, noInitWarn: true });
}

/** An sr25519 key from a secret URI (`//Alice`, a mnemonic, a hex seed). */
export function key(suri) {
  return new Keyring({ type: 'sr25519', ss58Format: SS58_PREFIX }).addFromUri(suri);
}

/** A dispatch error as `pallet.Error` (or the error's own text). */
export function errorName(api, dispatchError) {
  if (dispatchError?.isModule) {
    const { section, name } = api.registry.findMetaError(dispatchError.asModule);
    return `${section}.${name}`;
  }
  return dispatchError?.toString();
}

/**
 * Signs and sends `tx`; resolves once it is in a block with its events and block
 * hash. A failed dispatch rejects with `pallet.Error` as the message, unless
 * `allowFailure` is set (then `error` holds the name).
 */
export function send(api, tx, signer, { allowFailure = false } = {}) {
  return new Promise((resolve, reject) => {
    let unsub;
    tx.signAndSend(signer, ({ status, events, dispatchError }) => {
      if (!status.isInBlock) return;
      unsub?.();
      const error = dispatchError ? errorName(api, dispatchError) : undefined;
      if (error && !allowFailure) reject(new Error(`${tx.method.section}.${tx.method.method}: ${error}`));
      else resolve({ events, error, blockHash: status.asInBlock });
    })
      .then((u) => (unsub = u))
      .catch(reject);
  });
}

/** The collective pallets by their names in the runtime. */
export const BODIES = { council: 'council', technical: 'technicalCommittee' };

/** Members needed for two thirds of a body (the runtime's threshold). */
export async function twoThirds(api, body) {
  const members = await api.query[body].members();
  return Math.ceil((2 * members.length) / 3);
}

/**
 * A motion of `body` ('council' or 'technicalCommittee') on `call`: `proposer`
 * proposes it at two thirds, `ayes` and `nays` (key pairs, the proposer among
 * them if it votes) vote, `proposer` closes it. Returns `{ hash, index, outcome, result, closeError }`: outcome is
 * 'Executed' (with the call's `result`), 'Disapproved', or 'Open' when `close`
 * was refused (its error in `closeError`, for example a motion without enough
 * votes before its end).
 */
export async function motion(api, body, call, { proposer, ayes = [], nays = [], log = () => {} }) {
  const threshold = await twoThirds(api, body);
  const length = call.method.encodedLength;
  const proposed = await send(api, api.tx[body].propose(threshold, call, length), proposer);
  const event = proposed.events.find(({ event }) => api.events[body].Proposed.is(event));
  if (!event) throw new Error(`${body}.propose did not open a motion`);
  const hash = event.event.data.proposalHash.toHex();
  const index = event.event.data.proposalIndex.toNumber();
  log(`${body}: motion ${index} (${call.method.section}.${call.method.method}) proposed by ${proposer.address}, ${threshold} votes needed`);
  // Proposing is not voting: the proposer votes like everyone else.
  const voters = [...ayes.map((k) => [k, true]), ...nays.map((k) => [k, false])];
  await Promise.all(voters.map(([k, approve]) => send(api, api.tx[body].vote(hash, index, approve), k)));
  for (const [k, approve] of voters) log(`${body}: ${k.address} votes ${approve ? 'aye' : 'nay'}`);
  const info = await api.call.transactionPaymentCallApi.queryCallInfo(call.method.toHex(), length);
  const closed = await send(api, api.tx[body].close(hash, index, info.weight, length), proposer, {
    allowFailure: true,
  });
  if (closed.error) {
    log(`${body}: motion ${index} not closed: ${closed.error}`);
    return { hash, index, outcome: 'Open', closeError: closed.error };
  }
  const of = (name) => closed.events.find(({ event }) => api.events[body][name].is(event));
  if (of('Disapproved')) {
    log(`${body}: motion ${index} disapproved`);
    return { hash, index, outcome: 'Disapproved' };
  }
  const executed = of('Executed');
  if (!executed) throw new Error(`${body}: motion ${index} closed without an outcome`);
  const res = executed.event.data.result;
  const result = res.isOk ? 'Ok' : errorName(api, res.asErr);
  log(`${body}: motion ${index} approved and executed: ${result}`);
  return { hash, index, outcome: 'Executed', result };
}

/**
 * Dispatches `call` as Root: the technical committee whitelists its hash (unless
 * it already did), then the council dispatches it. `technical` and `council` are the voting key pairs
 * (the first of each proposes). Returns the council motion's outcome.
 */
export async function dispatchAsRoot(api, call, { technical, council, councilNays = [], log = () => {} }) {
  if ((await api.query.whitelist.whitelistedCall(call.method.hash)).isSome) {
    log(`${BODIES.technical}: the call is already whitelisted (${call.method.hash.toHex()})`);
  } else {
    const whitelisted = await motion(api, BODIES.technical, api.tx.whitelist.whitelistCall(call.method.hash), {
      proposer: technical[0],
      ayes: technical,
      log,
    });
    if (whitelisted.result !== 'Ok') throw new Error(`whitelisting failed: ${whitelisted.result ?? whitelisted.outcome}`);
  }
  return motion(api, BODIES.council, api.tx.whitelist.dispatchWhitelistedCallWithPreimage(call), {
    proposer: council[0],
    ayes: council,
    nays: councilNays,
    log,
  });
}

/**
 * The events of block `blockHash`, decoded with the metadata of its parent: the
 * runtime that executed it. (The state of a block that sets new code already
 * reports the new runtime's version, and clients decode it with that metadata.)
 */
export async function eventsOf(api, blockHash) {
  const header = await api.rpc.chain.getHeader(blockHash);
  const atParent = await api.at(header.parentHash);
  const entry = atParent.query.system.events;
  const raw = await api.rpc.state.getStorage(entry.key(), blockHash);
  const type = atParent.registry.createLookupType(entry.creator.meta.type.asPlain);
  return atParent.registry.createType(type, raw.toU8a(true));
}

/** The runtime version the chain runs now. */
export async function runtimeVersion(api) {
  const v = await api.rpc.state.getRuntimeVersion();
  return { specName: v.specName.toString(), specVersion: v.specVersion.toNumber() };
}

/** Waits until the chain's runtime has `specVersion` (after an upgrade's next block). */
export async function waitForSpec(api, specVersion, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await runtimeVersion(api);
    if (v.specVersion === specVersion) return v;
    if (Date.now() > deadline) throw new Error(`runtime still at ${v.specVersion}, not ${specVersion}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/**
 * A runtime upgrade from `code` (the WASM bytes): authorize its hash through both
 * bodies, then apply it (signed by `payer`, refunded when it succeeds). Returns
 * `{ codeHash, authorized, applied, version }`; `authorized` is false when the
 * council did not pass it, and nothing is applied then.
 */
export async function upgradeRuntime(api, code, { technical, council, councilNays = [], payer, log = () => {} }) {
  const codeHash = blake2AsHex(code, 256);
  const before = await runtimeVersion(api);
  log(`runtime now: ${before.specName} ${before.specVersion}; new code ${code.length} bytes, hash ${codeHash}`);
  const dispatched = await dispatchAsRoot(api, api.tx.system.authorizeUpgrade(codeHash), {
    technical,
    council,
    councilNays,
    log,
  });
  const authorized = (await api.query.system.authorizedUpgrade()).unwrapOr(null);
  if (dispatched.result !== 'Ok' || authorized?.codeHash.toHex() !== codeHash) {
    log(`upgrade not authorized (${dispatched.result ?? dispatched.outcome}); the runtime stays at ${before.specVersion}`);
    return { codeHash, authorized: false, applied: false, version: before };
  }
  log(`authorized: ${codeHash}`);
  const applied = await send(api, api.tx.system.applyAuthorizedUpgrade(u8aToHex(code)), payer);
  // The client may already read that block with the new metadata: decode its
  // events with the old one.
  const events = await eventsOf(api, applied.blockHash);
  const updated = events.some(({ event }) => event.section === 'system' && event.method === 'CodeUpdated');
  if (!updated) throw new Error('applyAuthorizedUpgrade did not update the code');
  log(`applied in block ${applied.blockHash.toHex()}: system.CodeUpdated`);
  return { codeHash, authorized: true, applied: true, blockHash: applied.blockHash.toHex() };
}
