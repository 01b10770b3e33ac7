// The DSO's view: its locations' load, posting requests, the book and the proposal of
// each open request, buying, live dispatch, delivery and settlement, prequalification.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { apiSig, marketNow, marketSoon } from '../lib/chain';
import { selected } from '../lib/accounts';
import { snapshot, refresh, eligibleOffers, matchPreview, settlementOf, freeBalance, locationName, assetKindName } from '../lib/market';
import { calls } from '../lib/calls';
import { send } from '../lib/tx';
import * as bridge from '../lib/bridge';
import { checkRequest, checkBuy, nextMinute, type RequestForm } from '../lib/validate';
import { formatDuration, formatLocal, formatTime, msToLocalInput, planksToFlex, ppbToPercent, whToKwh, MINUTE_MS } from '../lib/units';
import { baseLoadAt, dayStart, loadProfile } from '../lib/profile';
import { Action, Check, Field, Flex, Kw, Kwh, Price, Section, SelectField, Status, Table, TextField, When, WindowTimes, Who, Whos, useBlock, usePoll } from '../components/ui';
import { useSignedForm } from '../components/form';
import { AssetCells, ASSET_HEAD } from '../components/AssetCells';
import { Chart } from '../components/Chart';
import { FillChart, fillInfo, meteredWh } from '../components/FillChart';
import type { Asset, FillTerms, Request, SettlementView } from '../lib/types';
import { nameOf } from '../lib/accounts';
import type { Snapshot } from '../lib/market';

export function DsoView() {
  const snap = snapshot.value;
  const me = selected.value;
  if (!snap || !me) return <p class="muted">Waiting for the chain and an account…</p>;
  const dso = snap.dsos.find((d) => d.account === me.address);
  if (!dso) {
    return (
      <Section title="Not a DSO" id="dso-none">
        <p>
          The account <Who address={me.address} /> is not a registered DSO. DSOs are registered by governance; on this chain:{' '}
          <Whos addresses={snap.dsos.map((d) => d.account)} />.
        </p>
      </Section>
    );
  }
  const mine = snap.requests.filter((r) => r.dso === me.address);
  return (
    <div class="view" data-testid="dso-view">
      <Grid snap={snap} locations={dso.locations} />
      <NewRequest snap={snap} locations={dso.locations} />
      <Section title="Open requests" id="open-requests">
        {mine.filter((r) => r.status === 'Open').length === 0 && <p class="muted">No open requests.</p>}
        {mine
          .filter((r) => r.status === 'Open')
          .map((r) => (
            <OpenRequest key={r.id} req={r} snap={snap} />
          ))}
      </Section>
      <Section title="Contracts: dispatch, delivery, settlement" id="contracts">
        {mine.filter((r) => r.status === 'Accepted' || r.status === 'Settled').length === 0 && <p class="muted">Nothing bought yet.</p>}
        {mine
          .filter((r) => r.status === 'Accepted' || r.status === 'Settled')
          .map((r) => (
            <ContractCard key={r.id} req={r} snap={snap} />
          ))}
      </Section>
      <Prequalification snap={snap} locations={dso.locations} />
      <Past requests={mine.filter((r) => r.status === 'Cancelled' || r.status === 'Expired')} />
    </div>
  );
}

/** Each location's load over the market's day: the base profile, metered flexibility, the result. */
function Grid({ snap, locations }: { snap: Snapshot; locations: number[] }) {
  return (
    <Section title="Your grid" id="grid">
      {locations.map((l) => (
        <LocationLoad key={l} snap={snap} location={l} />
      ))}
    </Section>
  );
}

function LocationLoad({ snap, location }: { snap: Snapshot; location: number }) {
  const now = marketNow.value;
  const day = now == null ? null : dayStart(now);
  const profile = usePoll(loadProfile, 600_000, []);
  const assets = snap.assets.filter((a) => a.spec.location === location);
  const ids = assets.map((a) => a.id).join(',');
  const samples = usePoll(
    async () => {
      if (day == null) return [];
      const all = await Promise.all(assets.map((a) => bridge.samplesIfKnown(a.id, day, day + 1440 * MINUTE_MS).catch(() => [])));
      return all;
    },
    5000,
    [ids, day, bridge.bridgeAssets.value],
  );
  const data = useMemo(() => {
    if (day == null || !profile.value) return null;
    const xs: number[] = [];
    const base: number[] = [];
    const flex: (number | null)[] = [];
    const load: (number | null)[] = [];
    const flexBy = new Map<number, number>();
    for (const s of samples.value ?? []) {
      for (let i = 1; i < s.length; i++) {
        const dt = s[i].atMs - s[i - 1].atMs;
        if (dt <= 0 || dt > 10 * MINUTE_MS) continue;
        const wh = s[i].exportedWh - s[i - 1].exportedWh - (s[i].importedWh - s[i - 1].importedWh);
        for (let t = s[i - 1].atMs; t < s[i].atMs; t += MINUTE_MS) flexBy.set(t, (flexBy.get(t) ?? 0) + (wh * 3_600_000) / dt / 1000);
      }
    }
    for (let m = 0; m < 1440; m++) {
      const t = day + m * MINUTE_MS;
      xs.push(t);
      const b = baseLoadAt(profile.value, t);
      base.push(b);
      const f = flexBy.get(t);
      flex.push(f === undefined ? null : f);
      load.push(f === undefined ? null : b - f);
    }
    return [xs, base, flex, load];
  }, [day, profile.value, samples.value]);
  const delivered = (samples.value ?? []).reduce((sum, s) => sum + Math.max(0, meteredWh(s, 'Up')), 0);
  return (
    <div class="location" data-testid={`location-${location}`}>
      <h3>
        {locationName(snap, location)} <span class="muted">(location {location})</span>
      </h3>
      {data ? (
        <Chart
          title={`Transformer load, ${now ? new Date(now).toLocaleDateString() : ''}`}
          data={data}
          now={now}
          series={[
            { label: 'base load kW', stroke: '#7f7f7f' },
            { label: 'metered flexibility kW', stroke: '#d62728', stepped: true, fill: 'rgba(214,39,40,0.1)' },
            { label: 'load with flexibility kW', stroke: '#2ca02c' },
          ]}
          axes={[{ scale: 'kW', label: 'kW' }]}
          height={240}
        />
      ) : (
        <p class="muted">Loading the profile…</p>
      )}
      <p class="muted small">
        Base load: the SimBench LV profile of the pilot (semiurb5, same weekday and time, ×1.8 as in the pilot). Flexibility: the bridge's minute meter
        readings of the {assets.length} asset(s) here{delivered > 0 ? `, ${whToKwh(delivered, 2)} kWh today` : ''}.{' '}
        {samples.error || bridge.bridgeState.value === 'unreachable' ? <span class="warn">Bridge not reachable at {bridge.bridgeBase.value}.</span> : null}
      </p>
    </div>
  );
}

function emptyRequest(now: number | null, location: number | undefined): RequestForm {
  const start = now == null ? null : nextMinute(now, 60);
  return {
    location: location === undefined ? '' : String(location),
    direction: 'Up',
    powerKw: '20',
    start: start ? msToLocalInput(start) : '',
    end: start ? msToLocalInput(start + 45 * MINUTE_MS) : '',
    maxPriceFlex: '0.21',
    gateClosure: start ? msToLocalInput(start - 20 * MINUTE_MS) : '',
    pricing: 'PayAsBid',
    partial: false,
    maxOverKw: '0',
  };
}

function NewRequest({ snap, locations }: { snap: Snapshot; locations: number[] }) {
  const f = useSignedForm<RequestForm>(() => emptyRequest(marketNow.value, locations[0]));
  const { form, set } = f;
  const known = marketNow.value != null;
  useEffect(() => {
    if (known && !form.start) f.setForm({ ...emptyRequest(marketNow.value, locations[0]), ...Object.fromEntries(Object.entries(form).filter(([, v]) => v !== '')) });
  }, [known]);
  const now = marketSoon() ?? 0;
  const checked = checkRequest(form, { now, horizonMs: snap.params.horizonMs, maxWindowMs: snap.maxWindowMs, priceCap: snap.params.priceCap, locations });
  const e = f.errors(checked);
  const v = checked.value;
  const durationMs = v ? v.window.end - v.window.start : 0;
  return (
    <Section title="Post a request" id="request-form">
      <form
        class="grid-form"
        onSubmit={f.submit(checked.value && apiSig.value, async () => {
          const events = await send('Post request', () => calls(apiSig.value!).createRequest(checked.value!));
          const created = events.find((x) => x.event.method === 'RequestCreated');
          return created ? `Request ${(created.event.data as any)[0].toString()} posted.` : 'Posted.';
        })}
      >
        <SelectField label="Location" name="location" error={e.location} value={form.location} onChange={set('location')} options={locations.map((l) => [String(l), `${locationName(snap, l)} (${l})`])} />
        <SelectField label="Direction" name="direction" value={form.direction} onChange={set('direction')} options={[['Up', 'Up: discharge / reduce load'], ['Down', 'Down: charge / add load']]} />
        <TextField label="Power (kW)" name="power" error={e.power} value={form.powerKw} onInput={set('powerKw')} inputMode="decimal" />
        <TextField label="Window start (local time)" name="start" error={e.start} type="datetime-local" value={form.start} onInput={set('start')} />
        <TextField label="Window end" name="end" error={e.end} hint={durationMs > 0 ? formatDuration(durationMs) : undefined} type="datetime-local" value={form.end} onInput={set('end')} />
        <TextField label="Gate closure" name="gateClosure" error={e.gateClosure} hint="no offers or solutions after it" type="datetime-local" value={form.gateClosure} onInput={set('gateClosure')} />
        <TextField label="Price ceiling (FLEX per kWh)" name="maxPrice" error={e.maxPrice} hint={snap.params.priceCap != null ? `price cap ${planksToFlex(snap.params.priceCap)}` : undefined} value={form.maxPriceFlex} onInput={set('maxPriceFlex')} inputMode="decimal" />
        <SelectField label="Pricing rule" name="pricing" value={form.pricing} onChange={set('pricing')} options={[['PayAsBid', 'Pay as bid'], ['PayAsClear', 'Pay as clear']]} />
        <TextField label="Over-cover allowed (kW)" name="maxOver" error={e.maxOver} hint="0: never above the requested power" value={form.maxOverKw} onInput={set('maxOverKw')} inputMode="decimal" />
        <Field label="Partial cover" name="partial">
          <Check name="partial" checked={form.partial} onChange={set('partial')} label="accept a match covering less" />
        </Field>
        <div class="form-foot">
          {v && (
            <span class="muted">
              At most <Flex planks={(BigInt(v.powerW + v.maxOverW) * BigInt(durationMs) * v.maxPrice) / 3_600_000_000n} /> for{' '}
              {whToKwh(Math.floor((v.powerW * durationMs) / 3_600_000), 2)} kWh; deposit <Flex planks={snap.params.requestDeposit} />. Market time {formatLocal(marketNow.value ?? 0)}.
            </span>
          )}
          <button type="submit" data-testid="post-request">
            Sign and post request
          </button>
          {f.done && <span class="ok">{f.done}</span>}
        </div>
      </form>
    </Section>
  );
}

function OpenRequest({ req, snap }: { req: Request; snap: Snapshot }) {
  const s = req.spec;
  const offers = useBlock(() => eligibleOffers(req.id), [req.id]);
  const preview = useBlock(() => matchPreview(req.id), [req.id]);
  const [confirm, setConfirm] = useState(false);
  const now = marketNow.value ?? 0;
  const p = preview.value;
  const stored = snap.proposals.get(req.id);
  const gateClosed = now >= s.gateClosure;
  const api = apiSig.value!;
  const free = useBlock(() => freeBalance(api, req.dso), [req.dso]);
  const buyProblem = p && free.value !== undefined ? checkBuy(p.cost, free.value) : undefined;
  return (
    <article class="request" data-testid={`request-${req.id}`}>
      <h3>
        Request {req.id}: <Kw w={s.powerW} /> {s.direction === 'Up' ? 'up' : 'down'} at {locationName(snap, s.location)}, <WindowTimes window={s.window} />{' '}
        <Status value={req.status} />
      </h3>
      <p class="facts">
        ceiling <Price planks={s.maxPrice} /> · {s.pricing === 'PayAsBid' ? 'pay as bid' : 'pay as clear'} · {s.partial ? 'partial cover accepted' : 'full cover only'}
        {s.maxOverW ? ` · over-cover up to ${s.maxOverW / 1000} kW` : ''} · gate closure {formatTime(s.gateClosure)} ({gateClosed ? 'closed' : `in ${formatDuration(s.gateClosure - now)} market time`}) · starts in {formatDuration(s.window.start - now)}
      </p>
      <h4>Eligible offers ({offers.value?.length ?? '…'})</h4>
      <Table testid="eligible-offers" head={['offer', 'FSP', 'asset', 'power', 'price', 'divisible']}>
        {(offers.value ?? []).map((o) => (
          <tr>
            <td>{o.id}</td>
            <td>
              <Who address={o.fsp} />
            </td>
            <td>{o.spec.asset}</td>
            <td>
              <Kw w={o.spec.powerW} />
            </td>
            <td>
              <Price planks={o.spec.price} />
            </td>
            <td>{o.spec.divisibility === 'AllOrNothing' ? 'all or nothing' : `from ${o.spec.divisibility.divisible / 1000} kW`}</td>
          </tr>
        ))}
      </Table>
      <h4>
        {!p && 'Match'}
        {p && p.source === 'Stored' && (
          <>
            Match proposed by {stored ? <Who address={stored.submitter} /> : 'the chain'}
          </>
        )}
        {p && p.source !== 'Stored' && 'Match: merit order preview (not stored yet; store it to buy)'}
      </h4>
      {!p && <p class="muted">No feasible match yet.</p>}
      {p && (
        <div data-testid="match-preview" data-source={p.source}>
          <Table head={['offer', 'asset', 'FSP', 'power', 'price', 'energy', 'cost']}>
            {p.fills.map((f) => (
              <tr>
                <td>{f.offer}</td>
                <FillCells fill={f} />
                <td>
                  <Price planks={f.price} />
                </td>
                <td>
                  <Kwh wh={f.energyWh} digits={2} />
                </td>
                <td>
                  <Flex planks={f.cost} />
                </td>
              </tr>
            ))}
            <tr class="total">
              <td colSpan={3}>total</td>
              <td>
                <Kw w={p.powerW} /> of <Kw w={p.requestedW} />
              </td>
              <td />
              <td>
                <Kwh wh={p.energyWh} digits={2} />
              </td>
              <td>
                <Flex planks={p.cost} />
              </td>
            </tr>
          </Table>
        </div>
      )}
      <div class="actions">
        {(!p || p.source !== 'Stored') && !gateClosed && (
          <Action testid="run-merit-order" onClick={() => send(`Match request ${req.id}`, () => calls(api).matchRequest(req.id)).then(refresh)}>
            Run the merit order (store the match)
          </Action>
        )}
        {p && p.source === 'Stored' && !confirm && (
          <button data-testid="buy" onClick={() => setConfirm(true)} disabled={now >= s.window.start}>
            Buy…
          </button>
        )}
        {p && p.source === 'Stored' && confirm && (
          <div class="confirm" data-testid="buy-confirm">
            <p>
              Buying holds <b data-testid="escrow-cost">{planksToFlex(p.cost)} FLEX</b> from your balance in escrow until settlement, for <Kwh wh={p.energyWh} digits={2} /> (
              {p.fills.length} fills). The chain refuses the purchase if it would cost more than that (max_cost).
            </p>
            {buyProblem && <p class="error">{buyProblem}</p>}
            <Action
              testid="buy-confirm-button"
              disabled={!!buyProblem}
              onClick={() =>
                send(`Buy match of request ${req.id}`, () => calls(api).acceptMatch(req.id, p.cost))
                  .then(refresh)
                  .finally(() => setConfirm(false))
              }
            >
              Sign: buy for {planksToFlex(p.cost)} FLEX
            </Action>
            <button class="secondary" onClick={() => setConfirm(false)}>
              Not now
            </button>
          </div>
        )}
        {!gateClosed && (
          <Action kind="secondary" testid="cancel-request" onClick={() => send(`Cancel request ${req.id}`, () => calls(api).cancelRequest(req.id)).then(refresh)}>
            Cancel request
          </Action>
        )}
      </div>
    </article>
  );
}

/** The asset, FSP and power of a fill, as table cells. */
function FillCells({ fill: f }: { fill: FillTerms }) {
  return (
    <>
      <td>{f.asset}</td>
      <td>
        <Who address={f.fsp} />
      </td>
      <td>
        <Kw w={f.powerW} />
      </td>
    </>
  );
}

function ContractCard({ req, snap }: { req: Request; snap: Snapshot }) {
  const view = useBlock(() => settlementOf(req.id), [req.id]);
  const v: SettlementView | null | undefined = view.value;
  const s = req.spec;
  const c = snap.contracts.get(req.id);
  const disp = usePoll(() => (bridge.bridgeState.value === 'ok' ? bridge.dispatches() : Promise.resolve([])), 3000, [req.id, bridge.bridgeState.value]);
  const now = marketNow.value ?? 0;
  const phase = now < s.window.start ? `starts in ${formatDuration(s.window.start - now)}` : now < s.window.end ? `running, ${formatDuration(s.window.end - now)} left` : 'window over';
  const totals = v?.fills.reduce(
    (t, f) => ({
      delivered: t.delivered + (f.report?.deliveredWh ?? 0),
      paid: t.paid + (f.outcome?.paid ?? 0n),
      penalty: t.penalty + (f.outcome?.penalty ?? 0n),
      refunded: t.refunded + (f.outcome?.refunded ?? 0n),
    }),
    { delivered: 0, paid: 0n, penalty: 0n, refunded: 0n },
  );
  const settled = !!v && v.fills.length > 0 && v.fills.every((f) => f.outcome);
  return (
    <article class="contract" data-testid={`contract-${req.id}`}>
      <h3>
        Request {req.id}: <Kw w={s.powerW} /> at {locationName(snap, s.location)}, <WindowTimes window={s.window} /> <Status value={req.status} />{' '}
        <span class="muted">{phase}</span>
      </h3>
      {v && (
        <p class="facts">
          bought at <When ms={v.acceptedAt} /> for <Flex planks={v.cost} /> · in escrow <Flex planks={v.escrow} /> · reports {v.reportedFills}/{v.fills.length} · reporting deadline{' '}
          <When ms={v.reportDeadline || c?.reportDeadline || 0} />
        </p>
      )}
      {v && (
        <Table testid="settlement-table" head={['fill', 'asset', 'FSP', 'power', 'contracted', 'bridge', 'delivered', 'rate', 'paid', 'penalty', 'refunded']}>
          {v.fills.map((f) => {
            const d = (disp.value ?? []).find((x) => x.request === req.id && x.asset === f.asset);
            return (
              <tr data-testid={`fill-${f.index}`} data-asset={f.asset}>
                <td>{f.index}</td>
                <FillCells fill={f} />
                <td>
                  <Kwh wh={f.contractedWh} digits={2} />
                </td>
                <td>{d ? `${d.stage}${d.stop ? ` (stopped ${formatTime(d.stop.atMs)}: ${d.stop.reason})` : ''}` : '–'}</td>
                <td data-testid="delivered">{f.report ? <Kwh wh={f.report.deliveredWh} digits={2} /> : '–'}</td>
                <td>{f.outcome ? ppbToPercent(f.outcome.ratePpb) : f.report ? ppbToPercent(Math.min(1e9, Math.round((f.report.deliveredWh / f.contractedWh) * 1e9))) : '–'}</td>
                <td data-testid="paid">{f.outcome ? <Flex planks={f.outcome.paid} /> : '–'}</td>
                <td>{f.outcome ? <Flex planks={f.outcome.penalty} /> : '–'}</td>
                <td>{f.outcome ? <Flex planks={f.outcome.refunded} /> : '–'}</td>
              </tr>
            );
          })}
          {totals && (
            <tr class="total">
              <td colSpan={4}>total</td>
              <td>
                <Kwh wh={v.contractedWh} digits={2} />
              </td>
              <td />
              <td>{v.fills.some((f) => f.report) ? <Kwh wh={totals.delivered} digits={2} /> : '–'}</td>
              <td>{v.fills.some((f) => f.report) && v.contractedWh ? `${((totals.delivered / v.contractedWh) * 100).toFixed(1)} %` : '–'}</td>
              <td>{settled ? <Flex planks={totals.paid} /> : '–'}</td>
              <td>{settled ? <Flex planks={totals.penalty} /> : '–'}</td>
              <td>{settled ? <Flex planks={totals.refunded} /> : '–'}</td>
            </tr>
          )}
        </Table>
      )}
      <div class="fills">
        {v?.fills.map((f) => (
          <FillChart
            key={`${req.id}-${f.index}`}
            testid={`dispatch-${req.id}-${f.index}`}
            title={`Fill ${f.index}: asset ${f.asset}, ${assetKindName(snap, f.asset)} of ${nameOf(f.fsp)}`}
            fill={fillInfo(req, f)}
          />
        ))}
      </div>
    </article>
  );
}

function Prequalification({ snap, locations }: { snap: Snapshot; locations: number[] }) {
  const api = apiSig.value!;
  const assets = snap.assets.filter((a) => locations.includes(a.spec.location));
  const act = (a: Asset, status: 'Prequalified' | 'Suspended' | 'Pending', label: string) => (
    <Action testid={`asset-${a.id}-${status.toLowerCase()}`} kind={status === 'Prequalified' ? '' : 'secondary'} onClick={() => send(`${label} asset ${a.id}`, () => calls(api).setAssetStatus(a.id, status)).then(refresh)}>
      {label}
    </Action>
  );
  return (
    <Section title="Prequalification of assets on your grid" id="prequalification">
      {assets.length === 0 && <p class="muted">No assets registered at your locations.</p>}
      {assets.length > 0 && (
        <Table head={['asset', 'owner', ...ASSET_HEAD, 'status', '']}>
          {assets.map((a) => (
            <tr data-testid={`preq-${a.id}`}>
              <td>{a.id}</td>
              <td>
                <Who address={a.owner} />
              </td>
              <AssetCells snap={snap} asset={a} />
              <td>
                <Status value={a.status} />
              </td>
              <td class="actions">
                {a.status !== 'Prequalified' && act(a, 'Prequalified', 'Prequalify')}
                {a.status === 'Prequalified' && act(a, 'Suspended', 'Suspend')}
                {a.status === 'Suspended' && act(a, 'Pending', 'Reset')}
              </td>
            </tr>
          ))}
        </Table>
      )}
    </Section>
  );
}

function Past({ requests }: { requests: Request[] }) {
  if (requests.length === 0) return null;
  return (
    <Section title="Cancelled and expired requests" id="past">
      <ul>
        {requests.map((r) => (
          <li>
            Request {r.id}: {r.spec.powerW / 1000} kW, {formatLocal(r.spec.window.start)} <Status value={r.status} />
          </li>
        ))}
      </ul>
    </Section>
  );
}

