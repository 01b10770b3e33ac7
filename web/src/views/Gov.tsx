// The regulator's and the council's view: market parameters and the price cap, the
// market clock, the council's and the technical committee's open motions with their
// votes, and the runtime version.
import { apiSig, clock, runtime, chainName, best, finalized, marketNow } from '../lib/chain';
import { snapshot } from '../lib/market';
import { formatDuration, formatLocal, ppbToPercent } from '../lib/units';
import { Flex, Price, Section, Table, Who, Whos, useBlock } from '../components/ui';

interface Motion {
  hash: string;
  call: string;
  args: string;
  index: number;
  threshold: number;
  ayes: string[];
  nays: string[];
  end: number;
}

async function motions(body: 'council' | 'technicalCommittee'): Promise<{ members: string[]; motions: Motion[] }> {
  const api = apiSig.value;
  const q = (api?.query as any)?.[body];
  if (!q) return { members: [], motions: [] };
  const [members, hashes] = await Promise.all([q.members(), q.proposals()]);
  const list: Motion[] = await Promise.all(
    (hashes as any[]).map(async (h: any) => {
      const [voting, call] = await Promise.all([q.voting(h), q.proposalOf(h)]);
      const v = voting.isSome ? voting.unwrap() : null;
      const c = call.isSome ? call.unwrap() : null;
      let name = 'unknown call';
      let args = '';
      if (c) {
        name = `${c.section}.${c.method}`;
        args = JSON.stringify(c.toHuman()?.args ?? {}).slice(0, 200);
      }
      return {
        hash: h.toHex(),
        call: name,
        args,
        index: v ? v.index.toNumber() : -1,
        threshold: v ? v.threshold.toNumber() : 0,
        ayes: v ? v.ayes.map((a: any) => a.toString()) : [],
        nays: v ? v.nays.map((a: any) => a.toString()) : [],
        end: v ? v.end.toNumber() : 0,
      };
    }),
  );
  return { members: (members as any[]).map((m: any) => m.toString()), motions: list };
}

function Body({ body, title }: { body: 'council' | 'technicalCommittee'; title: string }) {
  const data = useBlock(() => motions(body), [body]);
  const d = data.value;
  return (
    <Section title={title} id={`gov-${body}`}>
      {d && (
        <p>
          Members: <Whos addresses={d.members} />
        </p>
      )}
      {d && d.motions.length === 0 && <p class="muted">No open motions.</p>}
      {d && d.motions.length > 0 && (
        <Table head={['#', 'call', 'ayes', 'nays', 'threshold', 'closes at block']}>
          {d.motions.map((m) => (
            <tr>
              <td>{m.index}</td>
              <td>
                <b>{m.call}</b> <span class="mono small">{m.args}</span>
              </td>
              <td>
                {m.ayes.length} <Whos addresses={m.ayes} />
              </td>
              <td>
                {m.nays.length} <Whos addresses={m.nays} />
              </td>
              <td>{m.threshold}</td>
              <td>
                #{m.end} {best.value < m.end ? `(in ${m.end - best.value} blocks)` : '(may be closed)'}
              </td>
            </tr>
          ))}
        </Table>
      )}
      {data.error && <p class="error">{data.error}</p>}
    </Section>
  );
}

export function GovView() {
  const snap = snapshot.value;
  const p = snap?.params;
  const rt = runtime.value;
  const c = clock.value;
  return (
    <div class="view" data-testid="gov-view">
      <Section title="Market parameters" id="params">
        {p && snap && (
          <dl class="params">
            <dt>Price cap</dt>
            <dd data-testid="price-cap">{p.priceCap == null ? 'none' : <Price planks={p.priceCap} />}</dd>
            <dt>Horizon (how far ahead a window may start)</dt>
            <dd>{formatDuration(p.horizonMs)}</dd>
            <dt>Longest window</dt>
            <dd>{formatDuration(snap.maxWindowMs)}</dd>
            <dt>Settlement grace (reports taken until the window's end plus)</dt>
            <dd>{formatDuration(p.settlementGraceMs)}</dd>
            <dt>Retention of finished requests</dt>
            <dd>{formatDuration(p.retentionMs)}</dd>
            <dt>Penalty</dt>
            <dd>
              {p.penaltyRatePpb === 0 ? 'none' : `${ppbToPercent(p.penaltyRatePpb)} of the undelivered energy's value below ${ppbToPercent(p.penaltyThresholdPpb)} delivery`}
            </dd>
            <dt>Solution margin</dt>
            <dd>{ppbToPercent(p.solutionMarginPpb)}</dd>
            <dt>Deposits: request / asset / FSP</dt>
            <dd>
              <Flex planks={p.requestDeposit} /> / <Flex planks={p.assetDeposit} /> / <Flex planks={p.fspDeposit} />
            </dd>
            <dt>Max offers per asset</dt>
            <dd>{snap.maxOffersPerAsset}</dd>
          </dl>
        )}
      </Section>
      <Section title="Market clock and runtime" id="runtime">
        <dl class="params">
          <dt>Chain</dt>
          <dd>{chainName.value}</dd>
          <dt>Runtime</dt>
          <dd data-testid="runtime-version">{rt ? `${rt.specName} ${rt.specVersion} (impl ${rt.implVersion}, tx ${rt.transactionVersion})` : '…'}</dd>
          <dt>Blocks</dt>
          <dd>
            best #{best.value}, finalized #{finalized.value}
          </dd>
          <dt>Market time</dt>
          <dd>{marketNow.value ? formatLocal(marketNow.value, true) : '…'}</dd>
          <dt>Clock</dt>
          <dd>{c ? `${c.scale}× real time since ${formatLocal(c.marketMs)} market time` : 'real time (not set)'}</dd>
        </dl>
      </Section>
      <Section title="DSOs and locations" id="dsos">
        {snap && (
          <Table head={['DSO', 'locations', 'metering oracles', 'active requests']}>
            {snap.dsos.map((d) => (
              <tr>
                <td>
                  <Who address={d.account} />
                </td>
                <td>{d.locations.map((l) => `${snap.locations.find((x) => x.id === l)?.name ?? ''} (${l})`).join(', ')}</td>
                <td>
                  <Whos addresses={d.oracles} />
                </td>
                <td>{d.activeRequests}</td>
              </tr>
            ))}
          </Table>
        )}
      </Section>
      <Body body="council" title="Council: open motions" />
      <Body body="technicalCommittee" title="Technical committee: open motions" />
    </div>
  );
}
