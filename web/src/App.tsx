// The shell: the node and its state, market time, the account that signs, the views.
import { useEffect, useState } from 'preact/hooks';
import { conn, endpoint, connect, best, finalized, chainName, isDev, marketNow, clock } from './lib/chain';
import { selected, select, extensionState, enableExtension, devAccounts, extensionAccounts } from './lib/accounts';
import { bridgeBase, bridgeState, setBridge, bridgeHealth } from './lib/bridge';
import { snapshot, snapshotError } from './lib/market';
import { txs, dismiss } from './lib/tx';
import { formatLocal } from './lib/units';
import { DsoView } from './views/Dso';
import { FspView } from './views/Fsp';
import { GovView } from './views/Gov';

type View = 'dso' | 'fsp' | 'gov';
const viewOf = (): View | null => {
  const h = location.hash.replace(/^#\/?/, '');
  return h === 'dso' || h === 'fsp' || h === 'gov' ? h : null;
};

export function App() {
  const [view, setView] = useState<View | null>(viewOf());
  useEffect(() => {
    const on = () => setView(viewOf());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  const snap = snapshot.value;
  const me = selected.value;
  const isDso = !!(snap && me && snap.dsos.some((d) => d.account === me.address));
  const shown: View = view ?? (isDso ? 'dso' : 'fsp');
  return (
    <div class="app">
      <Header />
      <nav class="tabs">
        {(
          [
            ['dso', 'DSO: grid and requests'],
            ['fsp', 'FSP: assets and offers'],
            ['gov', 'Regulator and council'],
          ] as [View, string][]
        ).map(([v, label]) => (
          <a href={`#/${v}`} class={shown === v ? 'active' : ''} data-testid={`tab-${v}`}>
            {label}
          </a>
        ))}
      </nav>
      <Transactions />
      <main data-ready={snap ? 'yes' : 'no'}>
        {conn.value !== 'connected' && !snap && <p class="muted">Connecting to {endpoint.value}…</p>}
        {snapshotError.value && <p class="error">Reading the market failed: {snapshotError.value}</p>}
        {shown === 'dso' && <DsoView />}
        {shown === 'fsp' && <FspView />}
        {shown === 'gov' && <GovView />}
      </main>
      <footer class="muted small">
        Flexchain web app · prices in FLEX per kWh (1 FLEX = 10<sup>12</sup> planks) · times in your local time zone, on the market's clock
      </footer>
    </div>
  );
}

function Header() {
  const [url, setUrl] = useState(endpoint.value);
  const [bridge, setBridgeText] = useState(bridgeBase.value);
  const [settings, setSettings] = useState(false);
  useEffect(() => setUrl(endpoint.value), [endpoint.value]);
  useEffect(() => setBridgeText(bridgeBase.value), [bridgeBase.value]);
  const c = conn.value;
  const now = marketNow.value;
  const scale = clock.value?.scale ?? 1;
  return (
    <header class="top">
      <div class="brand">
        <b>Flexchain</b> <span class="muted">{chainName.value}</span>
      </div>
      <div class={`conn conn-${c}`} data-testid="conn" data-state={c} title={endpoint.value}>
        {c === 'connected' ? `connected · #${best.value} (final #${finalized.value})` : c === 'connecting' ? 'connecting…' : 'disconnected · reconnecting…'}
      </div>
      <div class="clock" data-testid="market-time" data-ms={now ?? ''}>
        market time <b>{now ? formatLocal(now, true) : '…'}</b>
        {scale !== 1 && <span class="badge">{scale}× real time</span>}
      </div>
      <div class="account">
        <select
          data-testid="account"
          value={selected.value?.address ?? ''}
          onChange={(e) => select((e.target as HTMLSelectElement).value)}
        >
          <option value="">— pick an account —</option>
          {extensionAccounts.value.length > 0 && (
            <optgroup label="Browser extension">
              {extensionAccounts.value.map((a) => (
                <option value={a.address}>{a.name}</option>
              ))}
            </optgroup>
          )}
          {isDev.value && devAccounts.value.length > 0 && (
            <optgroup label="Development keys: development chains only">
              {devAccounts.value.map((a) => (
                <option value={a.address}>{a.name}</option>
              ))}
            </optgroup>
          )}
        </select>
        {selected.value?.source === 'dev' && <span class="badge dev">development key</span>}
        {extensionState.value !== 'ok' && (
          <button class="secondary" onClick={() => void enableExtension()} disabled={extensionState.value === 'asking'}>
            {extensionState.value === 'none' ? 'No extension found' : 'Use browser extension'}
          </button>
        )}
      </div>
      <button class="secondary" onClick={() => setSettings(!settings)} data-testid="settings">
        Settings
      </button>
      {settings && (
        <form
          class="settings"
          onSubmit={(e) => {
            e.preventDefault();
            localStorage.setItem('flexchain.rpc', url);
            if (url !== endpoint.value) {
              const q = new URLSearchParams(location.search);
              q.set('rpc', url);
              history.replaceState(null, '', `?${q}${location.hash}`);
              void connect(url);
            }
            setBridge(bridge);
            setSettings(false);
          }}
        >
          <label>
            Node (WebSocket) <input name="rpc" value={url} onInput={(e) => setUrl((e.target as HTMLInputElement).value)} />
          </label>
          <label>
            Bridge (HTTP base URL) <input name="bridge" value={bridge} onInput={(e) => setBridgeText((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit">Save</button>
        </form>
      )}
      <div class={`bridge b-${bridgeState.value}`} data-testid="bridge-state" title={`${bridgeBase.value}${bridgeHealth.value?.problems?.length ? '\n' + bridgeHealth.value.problems.join('\n') : ''}`}>
        bridge {bridgeState.value}
        {bridgeState.value !== 'unreachable' && bridgeHealth.value?.devices_connected != null && ` · ${bridgeHealth.value.devices_connected}/${bridgeHealth.value.devices_configured} devices`}
        {bridgeState.value === 'unhealthy' && bridgeHealth.value?.problems?.length ? `: ${bridgeHealth.value.problems[0]}` : ''}
      </div>
    </header>
  );
}

function Transactions() {
  if (txs.value.length === 0) return null;
  return (
    <div class="txs" data-testid="txs">
      {txs.value.map((t) => (
        <div class={`tx tx-${t.status.replace(' ', '-')}`} data-testid="tx" data-id={t.id} data-status={t.status}>
          <b>{t.label}</b>: {t.status}
          {t.error && <div class="tx-error" data-testid="tx-error">{t.error}</div>}
          <button class="link" onClick={() => dismiss(t.id)} aria-label="dismiss">
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
