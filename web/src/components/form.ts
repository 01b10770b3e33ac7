// The state every form that signs a transaction keeps: its values, whether its
// errors show (from the first attempt to submit until a success), and the message
// of its last success.
import { useState } from 'preact/hooks';
import { refresh } from '../lib/market';

/** A signing form's state, starting from the values `init`. */
export function useSignedForm<F>(init: F | (() => F)) {
  const [form, setForm] = useState<F>(init);
  const [shown, setShown] = useState(false);
  const [done, setDone] = useState('');
  return {
    form,
    setForm,
    /** The setter of field `k`, for an input's onInput or onChange. */
    set: (k: keyof F) => (v: any) => setForm({ ...form, [k]: v }),
    /** The message `sign` returned the last time it succeeded. */
    done,
    /** The errors of `checked` to show: none before the first attempt to submit. */
    errors: (checked: { errors: Record<string, string> }) => (shown ? checked.errors : {}),
    /**
     * The form's onSubmit: shows the errors; if the form is `valid`, signs with `sign`,
     * then hides them again and re-reads the market. A refusal's reason is shown in
     * the transaction list.
     */
    submit: (valid: unknown, sign: () => Promise<string | void>) => async (ev: Event) => {
      ev.preventDefault();
      setShown(true);
      setDone('');
      if (!valid) return;
      try {
        setDone((await sign()) ?? '');
        setShown(false);
        void refresh();
      } catch {
        /* the reason is shown in the transaction list */
      }
    },
  };
}
