// An asset's registered spec as table cells, as the DSO's prequalification table and
// the FSP's own assets table show it.
import { Kw, Kwh } from './ui';
import { locationName, type Snapshot } from '../lib/market';
import { kindName, type Asset } from '../lib/types';

/** The headings of the columns `AssetCells` fills. */
export const ASSET_HEAD = ['kind', 'location', 'export / import', 'capacity', 'SoC floor', 'device'];

/** Kind, location, export and import limits, capacity, state-of-charge floor and device reference of `asset`. */
export function AssetCells({ snap, asset }: { snap: Snapshot; asset: Asset }) {
  const s = asset.spec;
  return (
    <>
      <td>{kindName(s.kind)}</td>
      <td>{locationName(snap, s.location)}</td>
      <td>
        <Kw w={s.maxExportW} /> / <Kw w={s.maxImportW} />
      </td>
      <td>
        <Kwh wh={s.capacityWh} digits={1} />
      </td>
      <td>{s.minSocPercent} %</td>
      <td class="mono">{s.device}</td>
    </>
  );
}
