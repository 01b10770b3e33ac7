// The FSP's view: its assets, the requests open where they are, its offers, the
// contracts it won with each asset's power and state of charge live, and its payouts.
import { useEffect, useState } from 'preact/hooks';
import { apiSig, marketNow, marketSoon } from '../lib/chain';
import { selected } from '../lib/accounts';
import { snapshot, refresh, openRequestsAt, settlementOf, locationName, assetKindName } from '../lib/market';
import { calls } from '../lib/calls';
import { send } from '../lib/tx';
import { checkAsset, checkOffer, nextMinute, type AssetForm, type OfferForm } from '../lib/validate';
import { formatDuration, formatLocal, msToLocalInput, planksToFlex, ppbToPercent, wToKw, whToKwh, MINUTE_MS } from '../lib/units';
import { Action, Check, Field, Flex, Kw, Kwh, Price, Section, SelectField, Status, Table, TextField, When, WindowTimes, Who, useBlock } from '../components/ui';
import { useSignedForm } from '../components/form';
import { AssetCells, ASSET_HEAD } from '../components/AssetCells';
import { FillChart, fillInfo } from '../components/FillChart';
import { ASSET_KINDS, type Asset, type Offer, type Request } from '../lib/types';
import type { Snapshot } from '../lib/market';

const KINDS = ASSET_KINDS;

export function FspView() {
  const [editOffer, setEditOffer] = useState<Offer | null>(null);
  const [draft, setDraft] = useState<Partial<OfferForm> | null>(null);
  const snap = snapshot.value;
  const me = selected.value;
  if (!snap || !me) return <p class="muted">Waiting for the chain and an account…</p>;
  const isFsp = snap.fsps.has(me.address);
  const isDso = snap.dsos.some((d) => d.account === me.address);
  const assets = snap.assets.filter((a) => a.owner === me.address);
  const offers = snap.offers.filter((o) => o.fsp === me.address);
  const api = apiSig.value!;
  return (
    <div class="view" data-testid="fsp-view">
      {!isFsp && (
        <Section title="Register as an FSP" id="fsp-register">
          <p>
            <Who address={me.address} /> is not a registered FSP. Registering holds a deposit of <Flex planks={snap.params.fspDeposit} />.
          </p>
          <Action testid="register-fsp" onClick={() => send('Register as FSP', () => calls(api).registerFsp()).then(refresh)}>
            Sign: register as FSP
          </Action>
        </Section>
      )}
      <Assets snap={snap} assets={assets} canRegister={isFsp || isDso} />
      <OpenAtMyLocations
        snap={snap}
        locations={[...new Set(assets.map((a) => a.spec.location))]}
        onOffer={(r) => {
          setEditOffer(null);
          const asset = assets.find((a) => a.spec.location === r.spec.location && a.status === 'Prequalified');
          setDraft({
            asset: asset ? String(asset.id) : '',
            direction: r.spec.direction,
            start: msToLocalInput(r.spec.window.start),
            end: msToLocalInput(r.spec.window.end),
            powerKw: asset ? wToKw(Math.min(r.spec.powerW, r.spec.direction === 'Up' ? asset.spec.maxExportW : asset.spec.maxImportW)) : '',
          });
        }}
      />
      <OfferFormView key={`${editOffer?.id ?? 'new'}-${JSON.stringify(draft)}`} snap={snap} assets={assets} isFsp={isFsp} editing={editOffer} draft={draft} onDone={() => (setEditOffer(null), setDraft(null))} />
      <Section title="Your offers" id="offers">
        {offers.length === 0 && <p class="muted">No offers.</p>}
        {offers.length > 0 && (
          <Table head={['offer', 'asset', 'window', 'direction', 'power', 'price', 'status', '']}>
            {offers.map((o) => (
              <tr data-testid={`offer-${o.id}`}>
                <td>{o.id}</td>
                <td>{o.spec.asset}</td>
                <td>
                  <WindowTimes window={o.spec.window} />
                </td>
                <td>{o.spec.direction}</td>
                <td>
                  <Kw w={o.spec.powerW} />
                  {o.spec.divisibility !== 'AllOrNothing' && <span class="muted"> (from {wToKw(o.spec.divisibility.divisible)})</span>}
                </td>
                <td>
                  <Price planks={o.spec.price} />
                </td>
                <td>
                  <Status value={o.status === 'Matched' ? `Matched` : o.status} />
                  {o.matchedTo !== undefined && <span class="muted"> to request {o.matchedTo}</span>}
                </td>
                <td class="actions">
                  {o.status === 'Open' && (
                    <>
                      <button class="secondary" data-testid={`edit-offer-${o.id}`} onClick={() => (setDraft(null), setEditOffer(o))}>
                        Edit
                      </button>
                      <Action kind="secondary" testid={`withdraw-offer-${o.id}`} onClick={() => send(`Withdraw offer ${o.id}`, () => calls(api).cancelOffer(o.id)).then(refresh)}>
                        Withdraw
                      </Action>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </Table>
        )}
      </Section>
      <Won snap={snap} me={me.address} />
    </div>
  );
}

function Assets({ snap, assets, canRegister }: { snap: Snapshot; assets: Asset[]; canRegister: boolean }) {
  const [editing, setEditing] = useState<Asset | null>(null);
  const api = apiSig.value!;
  return (
    <Section title="Your assets" id="assets">
      {assets.length === 0 && <p class="muted">No assets registered.</p>}
      {assets.length > 0 && (
        <Table head={['asset', ...ASSET_HEAD, 'open offers', 'status', '']}>
          {assets.map((a) => (
            <tr data-testid={`asset-${a.id}`}>
              <td>{a.id}</td>
              <AssetCells snap={snap} asset={a} />
              <td>{a.openOffers}</td>
              <td>
                <Status value={a.status} />
              </td>
              <td class="actions">
                <button class="secondary" onClick={() => setEditing(a)} data-testid={`edit-asset-${a.id}`}>
                  Edit
                </button>
                <Action kind="secondary" onClick={() => send(`Deregister asset ${a.id}`, () => calls(api).deregisterAsset(a.id)).then(refresh)}>
                  Deregister
                </Action>
              </td>
            </tr>
          ))}
        </Table>
      )}
      <AssetFormView key={editing?.id ?? 'new'} snap={snap} editing={editing} canRegister={canRegister} onDone={() => setEditing(null)} />
    </Section>
  );
}

function AssetFormView({ snap, editing, canRegister, onDone }: { snap: Snapshot; editing: Asset | null; canRegister: boolean; onDone: () => void }) {
  const init: AssetForm = editing
    ? {
        kind: editing.spec.kind,
        location: String(editing.spec.location),
        maxExportKw: wToKw(editing.spec.maxExportW),
        maxImportKw: wToKw(editing.spec.maxImportW),
        capacityKwh: whToKwh(editing.spec.capacityWh),
        minSocPercent: String(editing.spec.minSocPercent),
        device: editing.spec.device,
      }
    : { kind: 'Battery', location: String(snap.locations[0]?.id ?? ''), maxExportKw: '', maxImportKw: '', capacityKwh: '', minSocPercent: '20', device: '' };
  const f = useSignedForm(init);
  const { form, set } = f;
  const checked = checkAsset(form, { locations: snap.locations.map((l) => l.id), maxDeviceRefLen: snap.maxDeviceRefLen, isParticipant: canRegister });
  const e = f.errors(checked);
  const api = apiSig.value!;
  return (
    <form
      class="grid-form"
      data-testid="asset-form"
      onSubmit={f.submit(checked.value, async () => {
        if (editing) await send(`Edit asset ${editing.id}`, () => calls(api).updateAsset(editing.id, checked.value!));
        else await send('Register asset', () => calls(api).registerAsset(checked.value!));
        if (!editing) f.setForm({ ...init, device: '' });
        onDone();
      })}
    >
      <h3 class="span">{editing ? `Edit asset ${editing.id} (it waits for prequalification again)` : 'Register an asset'}</h3>
      {e.account && <p class="error span">{e.account}</p>}
      <SelectField label="Kind" name="kind" value={form.kind} onChange={set('kind')} options={KINDS} />
      <SelectField label="Location" name="location" error={e.location} value={form.location} onChange={set('location')} options={snap.locations.map((l) => [String(l.id), `${l.name} (${l.id})`])} />
      <TextField label="Max export / up (kW)" name="maxExport" error={e.maxExport} value={form.maxExportKw} onInput={set('maxExportKw')} inputMode="decimal" />
      <TextField label="Max import / down (kW)" name="maxImport" error={e.maxImport} value={form.maxImportKw} onInput={set('maxImportKw')} inputMode="decimal" />
      <TextField label="Usable capacity (kWh)" name="capacity" error={e.capacity} value={form.capacityKwh} onInput={set('capacityKwh')} inputMode="decimal" />
      <TextField label="Minimum state of charge (%)" name="minSoc" error={e.minSoc} value={form.minSocPercent} onInput={set('minSocPercent')} inputMode="numeric" />
      <TextField label="Device reference" name="device" error={e.device} hint="what the DSO's bridge resolves, e.g. ocpp://V2G-1/1" value={form.device} onInput={set('device')} />
      <div class="form-foot">
        {!editing && <span class="muted">Deposit held while registered: {planksToFlex(snap.params.assetDeposit)} FLEX.</span>}
        <button type="submit" data-testid="submit-asset">
          {editing ? 'Sign: save asset' : 'Sign: register asset'}
        </button>
        {editing && (
          <button type="button" class="secondary" onClick={onDone}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

function OpenAtMyLocations({ snap, locations, onOffer }: { snap: Snapshot; locations: number[]; onOffer: (r: Request) => void }) {
  const open = useBlock(async () => (await Promise.all(locations.map(openRequestsAt))).flat(), [locations.join(',')]);
  const now = marketNow.value ?? 0;
  return (
    <Section title="Requests open at your assets' locations" id="open-at-locations">
      {locations.length === 0 && <p class="muted">Register an asset to see the requests at its location.</p>}
      {open.value && open.value.length === 0 && locations.length > 0 && <p class="muted">No open requests.</p>}
      {open.value && open.value.length > 0 && (
        <Table head={['request', 'location', 'window', 'power', 'ceiling', 'gate closure', '']}>
          {open.value.map((r) => (
            <tr data-testid={`open-request-${r.id}`}>
              <td>{r.id}</td>
              <td>{locationName(snap, r.spec.location)}</td>
              <td>
                <WindowTimes window={r.spec.window} />
              </td>
              <td>
                <Kw w={r.spec.powerW} /> {r.spec.direction}
              </td>
              <td>
                <Price planks={r.spec.maxPrice} />
              </td>
              <td>{now < r.spec.gateClosure ? `in ${formatDuration(r.spec.gateClosure - now)}` : 'closed'}</td>
              <td>
                {now < r.spec.gateClosure && (
                  <button data-testid={`offer-for-${r.id}`} onClick={() => onOffer(r)}>
                    Offer for it
                  </button>
                )}
              </td>
            </tr>
          ))}
        </Table>
      )}
    </Section>
  );
}

function OfferFormView({
  snap,
  assets,
  isFsp,
  editing,
  draft,
  onDone,
}: {
  snap: Snapshot;
  assets: Asset[];
  isFsp: boolean;
  editing: Offer | null;
  draft: Partial<OfferForm> | null;
  onDone: () => void;
}) {
  const now0 = marketNow.value;
  const start = now0 == null ? null : nextMinute(now0, 60);
  const init: OfferForm = editing
    ? {
        asset: String(editing.spec.asset),
        direction: editing.spec.direction,
        powerKw: wToKw(editing.spec.powerW),
        start: msToLocalInput(editing.spec.window.start),
        end: msToLocalInput(editing.spec.window.end),
        priceFlex: planksToFlex(editing.spec.price, 12).replace(/,/g, ''),
        divisible: editing.spec.divisibility !== 'AllOrNothing',
        minPowerKw: editing.spec.divisibility === 'AllOrNothing' ? '' : wToKw(editing.spec.divisibility.divisible),
      }
    : {
        asset: String(assets.find((a) => a.status === 'Prequalified')?.id ?? assets[0]?.id ?? ''),
        direction: 'Up',
        powerKw: '',
        start: start ? msToLocalInput(start) : '',
        end: start ? msToLocalInput(start + 45 * MINUTE_MS) : '',
        priceFlex: '',
        divisible: false,
        minPowerKw: '',
        ...draft,
      };
  const f = useSignedForm(init);
  const { form, set } = f;
  const known = now0 != null;
  useEffect(() => {
    if (known && !form.start && start) f.setForm({ ...form, start: msToLocalInput(start), end: msToLocalInput(start + 45 * MINUTE_MS) });
  }, [known]);
  const checked = checkOffer(form, {
    now: marketSoon() ?? 0,
    horizonMs: snap.params.horizonMs,
    maxWindowMs: snap.maxWindowMs,
    account: selected.value?.address ?? '',
    isFsp,
    assets: assets.map((a) => ({ id: a.id, owner: a.owner, status: a.status, maxExportW: a.spec.maxExportW, maxImportW: a.spec.maxImportW, openOffers: a.openOffers })),
    maxOffersPerAsset: snap.maxOffersPerAsset,
    editing: editing ? { asset: editing.spec.asset } : undefined,
  });
  const e = f.errors(checked);
  const api = apiSig.value!;
  return (
    <Section title={editing ? `Edit offer ${editing.id}` : 'Post an offer'} id="offer-form">
      <form
        class="grid-form"
        onSubmit={f.submit(checked.value, async () => {
          if (editing) await send(`Edit offer ${editing.id}`, () => calls(api).updateOffer(editing.id, checked.value!));
          else await send('Post offer', () => calls(api).createOffer(checked.value!));
          onDone();
        })}
      >
        {e.account && <p class="error span">{e.account}</p>}
        <SelectField label="Asset" name="asset" error={e.asset} value={form.asset} onChange={set('asset')} options={assets.map((a) => [String(a.id), `${a.id}: ${a.spec.kind} (${a.status.toLowerCase()})`])} />
        <SelectField label="Direction" name="direction" value={form.direction} onChange={set('direction')} options={[['Up', 'Up: discharge'], ['Down', 'Down: charge']]} />
        <TextField label="Power (kW)" name="power" error={e.power} value={form.powerKw} onInput={set('powerKw')} inputMode="decimal" />
        <TextField label="Available from (local time)" name="start" error={e.start} type="datetime-local" value={form.start} onInput={set('start')} />
        <TextField label="Available until" name="end" error={e.end} type="datetime-local" value={form.end} onInput={set('end')} />
        <TextField label="Price (FLEX per kWh)" name="price" error={e.price} value={form.priceFlex} onInput={set('priceFlex')} inputMode="decimal" />
        <Field label="Divisible" name="divisible">
          <Check name="divisible" checked={form.divisible} onChange={set('divisible')} label="a match may take part of it" />
        </Field>
        {form.divisible && (
          <TextField label="Smallest part (kW)" name="minPower" error={e.minPower} value={form.minPowerKw} onInput={set('minPowerKw')} inputMode="decimal" />
        )}
        <div class="form-foot">
          {checked.value && (
            <span class="muted">
              {whToKwh(Math.floor((checked.value.powerW * (checked.value.window.end - checked.value.window.start)) / 3_600_000), 2)} kWh over the window, at most{' '}
              {planksToFlex((BigInt(checked.value.powerW) * BigInt(checked.value.window.end - checked.value.window.start) * checked.value.price) / 3_600_000_000n)} FLEX.
            </span>
          )}
          <button type="submit" data-testid="submit-offer">
            {editing ? 'Sign: save offer' : 'Sign: post offer'}
          </button>
          {(editing || draft) && (
            <button type="button" class="secondary" onClick={onDone}>
              Cancel
            </button>
          )}
        </div>
      </form>
    </Section>
  );
}

/** The fills this FSP won, with each asset's power and SoC live, delivery and payout. */
function Won({ snap, me }: { snap: Snapshot; me: string }) {
  const candidates = snap.requests.filter((r) => (r.status === 'Accepted' || r.status === 'Settled') && snap.offers.some((o) => o.fsp === me && o.matchedTo === r.id));
  const fallback = snap.requests.filter((r) => r.status === 'Accepted' || r.status === 'Settled');
  const ids = (candidates.length ? candidates : fallback).map((r) => r.id);
  const views = useBlock(async () => (await Promise.all(ids.map(settlementOf))).filter((v) => v != null), [ids.join(',')]);
  const won = (views.value ?? []).flatMap((v) => v!.fills.filter((f) => f.fsp === me).map((f) => ({ v: v!, f })));
  const unclaimed = snap.unclaimed.filter((u) => u.fsp === me);
  const api = apiSig.value!;
  return (
    <Section title="Contracts won" id="won">
      {won.length === 0 && <p class="muted">No contracts yet.</p>}
      {won.map(({ v, f }) => {
        const s = v.request.spec;
        return (
          <article class="contract" data-testid={`won-${v.request.id}-${f.index}`}>
            <h3>
              Request {v.request.id}, fill {f.index}: asset {f.asset}, <Kw w={f.powerW} /> {s.direction} at <Price planks={f.price} />, <WindowTimes window={s.window} />{' '}
              <Status value={v.request.status} />
            </h3>
            <p class="facts">
              contracted <Kwh wh={f.contractedWh} digits={2} /> for <Flex planks={f.cost} /> · delivered{' '}
              <b data-testid="won-delivered">{f.report ? `${whToKwh(f.report.deliveredWh, 2)} kWh` : 'not reported yet'}</b>
              {f.report && <> reported <When ms={f.report.reportedAt} /></>} · payout{' '}
              <b data-testid="won-paid">{f.outcome ? `${planksToFlex(f.outcome.paid)} FLEX` : `pending (settles after ${formatLocal(v.reportDeadline)})`}</b>
              {f.outcome && (
                <>
                  {' '}
                  · rate {ppbToPercent(f.outcome.ratePpb)} · penalty <Flex planks={f.outcome.penalty} />
                </>
              )}
            </p>
            <FillChart
              soc
              testid={`won-chart-${v.request.id}-${f.index}`}
              title={`Asset ${f.asset}, ${assetKindName(snap, f.asset)}: power and state of charge`}
              fill={fillInfo(v.request, f)}
            />
          </article>
        );
      })}
      {unclaimed.map((u) => (
        <p class="warn">
          Payout of request {u.request} not transferred: <Flex planks={u.amount} />.{' '}
          <Action onClick={() => send(`Claim payout of request ${u.request}`, () => calls(api).claimPayout(u.request)).then(refresh)}>Sign: claim it</Action>
        </p>
      ))}
    </Section>
  );
}
