// Small shared pieces: form fields with their reason for refusal, amounts, windows,
// tables, hooks that re-read with every block or poll the bridge.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { best } from '../lib/chain';
import { planksToFlex, wToKw, whToKwh, formatLocal, formatTime } from '../lib/units';
import { nameOf } from '../lib/accounts';
import type { Window } from '../lib/types';

export function Field(props: {
  label: string;
  name: string;
  error?: string;
  hint?: string;
  children: ComponentChildren;
}) {
  return (
    <label class={`field${props.error ? ' invalid' : ''}`} data-field={props.name}>
      <span class="label">{props.label}</span>
      {props.children}
      {props.hint && !props.error && <span class="hint">{props.hint}</span>}
      {props.error && (
        <span class="error" role="alert" data-testid={`error-${props.name}`}>
          {props.error}
        </span>
      )}
    </label>
  );
}

export function Text(props: { value: string; onInput: (v: string) => void; name: string; placeholder?: string; type?: string; inputMode?: string }) {
  return (
    <input
      name={props.name}
      type={props.type ?? 'text'}
      inputMode={props.inputMode as any}
      value={props.value}
      placeholder={props.placeholder}
      onInput={(e) => props.onInput((e.target as HTMLInputElement).value)}
    />
  );
}

export function Select<T extends string>(props: { value: T; onChange: (v: T) => void; name: string; options: [T, string][] }) {
  return (
    <select name={props.name} value={props.value} onChange={(e) => props.onChange((e.target as HTMLSelectElement).value as T)}>
      {props.options.map(([v, l]) => (
        <option value={v}>{l}</option>
      ))}
    </select>
  );
}

/** The props of a field around an input: its label, name, reason for refusal and hint. */
type FieldProps = { label: string; name: string; error?: string; hint?: string };

/** A labelled text input, named `name`: `Text` in a `Field`. */
export function TextField(props: FieldProps & { value: string; onInput: (v: string) => void; placeholder?: string; type?: string; inputMode?: string }) {
  const { label, name, error, hint, ...input } = props;
  return (
    <Field label={label} name={name} error={error} hint={hint}>
      <Text name={name} {...input} />
    </Field>
  );
}

/** A labelled choice, named `name`: `Select` in a `Field`. */
export function SelectField<T extends string>(props: FieldProps & { value: T; onChange: (v: T) => void; options: [T, string][] }) {
  const { label, name, error, hint, ...select } = props;
  return (
    <Field label={label} name={name} error={error} hint={hint}>
      <Select name={name} {...select} />
    </Field>
  );
}

export function Check(props: { checked: boolean; onChange: (v: boolean) => void; name: string; label: string }) {
  return (
    <label class="check">
      <input type="checkbox" name={props.name} checked={props.checked} onChange={(e) => props.onChange((e.target as HTMLInputElement).checked)} />
      {props.label}
    </label>
  );
}

export const Flex = ({ planks, digits = 6 }: { planks: bigint; digits?: number }) => <span class="num">{planksToFlex(planks, digits)} FLEX</span>;
export const Price = ({ planks }: { planks: bigint }) => <span class="num">{planksToFlex(planks, 12)} FLEX/kWh</span>;
export const Kw = ({ w }: { w: number }) => <span class="num">{wToKw(w)} kW</span>;
export const Kwh = ({ wh, digits = 3 }: { wh: number; digits?: number }) => <span class="num">{whToKwh(wh, digits)} kWh</span>;
export const When = ({ ms }: { ms: number }) => <span class="num">{formatLocal(ms)}</span>;
export const Who = ({ address }: { address: string }) => <span class="who" title={address}>{nameOf(address)}</span>;
/** Each of `addresses` as a `Who`. */
export const Whos = ({ addresses }: { addresses: string[] }) => (
  <>
    {addresses.map((a) => (
      <Who address={a} />
    ))}
  </>
);

/** A window as its start's date and time and its end's time of day: "4 May 2026, 16:00–16:45". */
export const WindowTimes = ({ window: w }: { window: Window }) => (
  <>
    {formatLocal(w.start)}–{formatTime(w.end)}
  </>
);

/** A table with a header row of `head` (an empty string for a column without a name) and `children` as its rows. */
export function Table(props: { head: string[]; testid?: string; class?: string; children: ComponentChildren }) {
  return (
    <table class={props.class} data-testid={props.testid}>
      <thead>
        <tr>
          {props.head.map((h) => (
            <th>{h}</th>
          ))}
        </tr>
      </thead>
      <tbody>{props.children}</tbody>
    </table>
  );
}

export function Section(props: { title: string; id?: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section class="card" id={props.id} data-testid={props.id}>
      <header>
        <h2>{props.title}</h2>
        {props.actions}
      </header>
      {props.children}
    </section>
  );
}

export function Status({ value }: { value: string }) {
  return <span class={`status s-${value.toLowerCase()}`}>{value}</span>;
}

/** Runs `load` now and again with every new block (and when `deps` change). */
export function useBlock<T>(load: () => Promise<T>, deps: unknown[] = []): { value: T | undefined; error: string } {
  const [state, set] = useState<{ value: T | undefined; error: string }>({ value: undefined, error: '' });
  const block = best.value;
  const seq = useRef(0);
  useEffect(() => {
    const n = ++seq.current;
    load().then(
      (value) => n === seq.current && set({ value, error: '' }),
      (e) => n === seq.current && set((s) => ({ value: s.value, error: (e as Error).message })),
    );
  }, [block, ...deps]);
  return state;
}

/** Runs `load` now and every `ms` (the bridge's endpoints). */
export function usePoll<T>(load: () => Promise<T>, ms: number, deps: unknown[] = []): { value: T | undefined; error: string } {
  const [state, set] = useState<{ value: T | undefined; error: string }>({ value: undefined, error: '' });
  useEffect(() => {
    let live = true;
    const run = () =>
      load().then(
        (value) => live && set({ value, error: '' }),
        (e) => live && set((s) => ({ value: s.value, error: (e as Error).message })),
      );
    void run();
    const t = setInterval(run, ms);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, deps);
  return state;
}

/** A button that runs an async action and shows it is busy. */
export function Action(props: { onClick: () => Promise<unknown>; children: ComponentChildren; disabled?: boolean; testid?: string; kind?: string; title?: string }) {
  const [busy, setBusy] = useState(false);
  return (
    <button
      class={props.kind ?? ''}
      data-testid={props.testid}
      title={props.title}
      disabled={props.disabled || busy}
      onClick={async () => {
        setBusy(true);
        try {
          await props.onClick();
        } catch {
          /* shown in the transaction list */
        } finally {
          setBusy(false);
        }
      }}
    >
      {busy ? '…' : props.children}
    </button>
  );
}
