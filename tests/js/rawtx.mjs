// Fast extrinsics for filling a chain with hundreds of thousands of them: ed25519
// keys made from seeds and signed with Node's own crypto (OpenSSL, tens of µs a
// signature, where @polkadot/api's sr25519 signing takes about 1.7 ms), and the
// few calls a filler sends in bulk encoded by hand. `checkEncoders` compares every
// encoder with @polkadot/api's encoding and the transaction extensions with the
// runtime's before anything is sent, so a change of the runtime fails loudly.
import { createHash, createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { encodeAddress } from '@polkadot/util-crypto';

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
/** The transaction extensions this encoder writes (era, nonce, tip) and signs. */
const EXTENSIONS = [
  'CheckNonZeroSender', 'CheckSpecVersion', 'CheckTxVersion', 'CheckGenesis',
  'CheckMortality', 'CheckNonce', 'CheckWeight', 'ChargeTransactionPayment',
];

/** A 32-byte seed named by `label`. */
export const seedOf = (label) => createHash('sha256').update(`flexchain-city/${label}`).digest();

/** An ed25519 account from `seed`: its Node key, public key and address (`ss58` format). */
export function account(seed, ss58 = 42) {
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
  const pub = createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(12);
  return { seed, key, pub, address: encodeAddress(pub, ss58) };
}

/** SCALE compact encoding of a non-negative integer. */
export function compact(n) {
  const v = BigInt(n);
  if (v < 1n << 6n) return Buffer.from([Number(v << 2n)]);
  if (v < 1n << 14n) return le(Number((v << 2n) | 1n), 2);
  if (v < 1n << 30n) return le(Number((v << 2n) | 2n), 4);
  const bytes = [];
  for (let x = v; x > 0n; x >>= 8n) bytes.push(Number(x & 0xffn));
  return Buffer.from([((bytes.length - 4) << 2) | 3, ...bytes]);
}

/** `n` as `size` little-endian bytes (sizes 1, 2, 4, 8 or 16). */
export function le(n, size) {
  const b = Buffer.alloc(size);
  let v = BigInt(n);
  for (let i = 0; i < size; i++, v >>= 8n) b[i] = Number(v & 0xffn);
  return b;
}

const bytes = (s) => Buffer.concat([compact(Buffer.byteLength(s)), Buffer.from(s)]);
const KINDS = ['Battery', 'V2gCharger', 'EvCharger', 'FlexibleLoad', 'Generator'];
const DIRECTIONS = ['Up', 'Down'];
const STATUSES = ['Pending', 'Prequalified', 'Suspended'];
const window = (w) => Buffer.concat([le(w.start, 8), le(w.end, 8)]);
const divisibility = (d) =>
  d === 'AllOrNothing' ? Buffer.from([0]) : Buffer.concat([Buffer.from([1]), le(d.Divisible.minPowerW, 4)]);

/**
 * Encoders of the market calls a filler sends in bulk, taking the arguments
 * @polkadot/api takes (camelCase fields, enum variants by name).
 */
export function encoders(api) {
  const index = (call) => Buffer.from(api.tx.flexMarket[call].callIndex);
  const at = {
    registerAsset: index('registerAsset'), setAssetStatus: index('setAssetStatus'),
    createOffer: index('createOffer'), createRequest: index('createRequest'),
  };
  return {
    registerAsset: (s) => Buffer.concat([
      at.registerAsset, Buffer.from([KINDS.indexOf(s.kind)]), le(s.location, 4), le(s.maxExportW, 4),
      le(s.maxImportW, 4), le(s.capacityWh, 4), Buffer.from([s.minSocPercent]), bytes(s.device),
    ]),
    setAssetStatus: (asset, status) => Buffer.concat([at.setAssetStatus, le(asset, 4), Buffer.from([STATUSES.indexOf(status)])]),
    createOffer: (s) => Buffer.concat([
      at.createOffer, le(s.asset, 4), window(s.window), Buffer.from([DIRECTIONS.indexOf(s.direction)]),
      le(s.powerW, 4), le(s.price, 16), divisibility(s.divisibility),
    ]),
    createRequest: (s) => Buffer.concat([
      at.createRequest, le(s.location, 4), window(s.window), Buffer.from([DIRECTIONS.indexOf(s.direction)]),
      le(s.powerW, 4), le(s.maxPrice, 16), le(s.gateClosure, 8), Buffer.from([s.partial ? 1 : 0]),
      Buffer.from([s.pricing === 'PayAsBid' ? 0 : 1]), le(s.maxOverW, 4),
    ]),
  };
}

/** Throws unless `encode` writes what @polkadot/api writes for each sample call. */
export function checkEncoders(api, encode, samples) {
  const names = api.registry.signedExtensions.map(String);
  if (names.join() !== EXTENSIONS.join()) {
    throw new Error(`the runtime's transaction extensions changed: ${names.join(', ')}; update rawtx.mjs`);
  }
  for (const [call, args] of samples) {
    const ours = encode[call](...args).toString('hex');
    const theirs = Buffer.from(api.tx.flexMarket[call](...args).method.toU8a()).toString('hex');
    if (ours !== theirs) throw new Error(`rawtx.mjs encodes ${call} as ${ours}, @polkadot/api as ${theirs}`);
  }
}

/**
 * Signs `call` (encoded bytes) for `signer` with `nonce`, immortal and without a
 * tip; `chain` holds the spec and transaction versions and the genesis hash.
 * Returns the extrinsic as hex, ready for `author_submitExtrinsic`.
 */
export function signed(chain, signer, nonce, call) {
  const extra = Buffer.concat([Buffer.from([0]), compact(nonce), compact(0)]);
  const implicit = Buffer.concat([le(chain.specVersion, 4), le(chain.txVersion, 4), chain.genesis, chain.genesis]);
  const payload = Buffer.concat([call, extra, implicit]);
  if (payload.length > 256) throw new Error('payloads above 256 bytes are signed by their hash; not supported here');
  const signature = sign(null, payload, signer.key);
  const body = Buffer.concat([
    Buffer.from([0x84, 0x00]), signer.pub, Buffer.from([0x00]), signature, extra, call,
  ]);
  return `0x${Buffer.concat([compact(body.length), body]).toString('hex')}`;
}

/** What `signed` needs to know of the chain. */
export function chainOf(api) {
  return {
    specVersion: api.runtimeVersion.specVersion.toNumber(),
    txVersion: api.runtimeVersion.transactionVersion.toNumber(),
    genesis: Buffer.from(api.genesisHash.toU8a()),
  };
}
