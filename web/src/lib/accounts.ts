// Who signs: accounts of the Polkadot.js browser extension, and on a development
// chain the well-known development keys (//Alice …), clearly marked as such.

import { signal, computed } from '@preact/signals';
import type { KeyringPair } from '@polkadot/keyring/types';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { isDev, ss58 } from './chain';

export interface Account {
  address: string;
  name: string;
  source: 'dev' | 'extension';
  /** The extension's name, for its signer. */
  extension?: string;
  /** Set for development keys. */
  pair?: KeyringPair;
}

/**
 * Development keys and what they are on a Flexchain dev chain. //OEDAS and
 * //OEDAS-meter are the pilot demo's DSO and metering oracle, registered in its genesis.
 */
export const DEV_KEYS: { uri: string; role: string }[] = [
  { uri: '//Alice', role: 'validator, council' },
  { uri: '//Bob', role: 'FSP: battery' },
  { uri: '//Charlie', role: 'FSP: V2G charger' },
  { uri: '//Dave', role: 'DSO' },
  { uri: '//Eve', role: 'metering oracle' },
  { uri: '//Ferdie', role: '' },
  { uri: '//OEDAS', role: 'pilot demo DSO' },
  { uri: '//OEDAS-meter', role: 'pilot demo oracle' },
  { uri: '//FSP-battery', role: 'pilot demo FSP' },
  { uri: '//FSP-v2g', role: 'pilot demo FSP' },
];

export const extensionAccounts = signal<Account[]>([]);
export const extensionState = signal<'idle' | 'asking' | 'none' | 'ok'>('idle');
export const devAccounts = signal<Account[]>([]);
export const selectedAddress = signal<string>(localStorage.getItem('flexchain.account') ?? '');

export const allAccounts = computed(() => [...extensionAccounts.value, ...(isDev.value ? devAccounts.value : [])]);
export const selected = computed<Account | null>(
  () => allAccounts.value.find((a) => a.address === selectedAddress.value || a.name === selectedAddress.value) ?? null,
);

export function select(address: string) {
  selectedAddress.value = address;
  localStorage.setItem('flexchain.account', address);
}

/** Builds the development keys (loads the sr25519 code only on development chains). */
export async function loadDevAccounts() {
  const { Keyring } = await import('@polkadot/keyring');
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519', ss58Format: ss58.value });
  devAccounts.value = DEV_KEYS.map(({ uri, role }) => {
    const pair = keyring.addFromUri(uri, { name: uri });
    return { address: pair.address, name: `${uri}${role ? ' · ' + role : ''}`, source: 'dev' as const, pair };
  });
  // ?account=//Bob picks a development key by name.
  const q = new URLSearchParams(location.search).get('account');
  const byName = q && devAccounts.value.find((a) => a.pair?.meta.name === q);
  if (byName) select(byName.address);
}

/** Asks the Polkadot.js extension (and compatible ones) for its accounts. */
export async function enableExtension() {
  extensionState.value = 'asking';
  const { web3Enable, web3Accounts } = await import('@polkadot/extension-dapp');
  const exts = await web3Enable('Flexchain');
  if (exts.length === 0) {
    extensionState.value = 'none';
    return;
  }
  const list = await web3Accounts({ ss58Format: ss58.value });
  extensionAccounts.value = list.map((a) => ({
    address: a.address,
    name: a.meta.name ?? a.address.slice(0, 8),
    source: 'extension' as const,
    extension: a.meta.source,
  }));
  extensionState.value = 'ok';
}

/** The short form of an address: 5Grw…utQY. */
export function short(address: string): string {
  return address.length > 12 ? `${address.slice(0, 5)}…${address.slice(-4)}` : address;
}

/** A known name for an address (a development key or an extension account). */
export function nameOf(address: string): string {
  const a = allAccounts.value.find((x) => x.address === address) ?? devAccounts.value.find((x) => x.address === address);
  return a ? a.name.split(' · ')[0] : short(address);
}
