// Start-up: the serving server's defaults (config.json, optional), the node URL, the
// bridge URL, and the development keys once a development chain answers.
import { effect } from '@preact/signals';
import { connect, initialEndpoint, isDev, ss58, apiSig } from './lib/chain';
import { initialBridge, setBridge, health, assets } from './lib/bridge';
import { loadDevAccounts } from './lib/accounts';

export async function start() {
  let config: { rpc?: string; bridge?: string } = {};
  try {
    const res = await fetch('config.json', { cache: 'no-store' });
    if (res.ok && (res.headers.get('content-type') ?? '').includes('json')) config = await res.json();
  } catch {
    /* served without one */
  }
  setBridge(initialBridge(config.bridge));
  void connect(initialEndpoint(config.rpc));
  let devFor = -1;
  effect(() => {
    if (apiSig.value && isDev.value && devFor !== ss58.value) {
      devFor = ss58.value;
      void loadDevAccounts();
    }
  });
  const poll = () =>
    health()
      .then(() => assets())
      .catch(() => {});
  void poll();
  setInterval(poll, 5000);
}
