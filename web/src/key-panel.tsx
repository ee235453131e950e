import { useState } from 'preact/hooks';
import { call } from './api';
import { ErrorNote, Field, fieldError, formError, textInput } from './ui';

const REGISTER_FIELDS = ['name', 'last_name', 'email'];

/**
 * Getting a key: register (the service shows a key once; main.tsx shows it above the market view the
 * page moves on to), or paste one. The key is handed to `onKey`, which keeps it in this browser only
 * (storage.ts).
 */
export function KeyPanel(props: { currentKey: string | null; remembered: boolean; onKey: (key: string, remember: boolean, registered: boolean) => void; onForget: () => void }) {
  const [form, setForm] = useState({ name: '', last_name: '', email: '' });
  const [remember, setRemember] = useState(props.remembered);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [pasted, setPasted] = useState('');

  async function register(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await call<string>('/api/v1/register/', { method: 'POST', body: form });
      props.onKey(answer.body, remember, true);
      setForm({ name: '', last_name: '', email: '' });
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  function usePasted(event: Event) {
    event.preventDefault();
    const key = pasted.trim();
    if (!key) return;
    props.onKey(key, remember, false);
    setPasted('');
  }

  const input = (name: 'name' | 'last_name' | 'email') => textInput('register', name, { form, setForm, error });

  return (
    <section class="panel" aria-labelledby="key-heading">
      <h2 id="key-heading">Your API key</h2>
      {props.currentKey ? (
        <div class="key-state">
          <p>
            A key ending in <code>…{props.currentKey.slice(-4)}</code> is in use, kept in this browser’s{' '}
            {props.remembered ? 'local storage (remembered)' : 'session storage (until this tab closes)'}.
          </p>
          <button type="button" class="danger" onClick={props.onForget}>
            Forget key
          </button>
        </div>
      ) : (
        <p class="muted">No key yet: register for one, or paste a key you have.</p>
      )}
      <label class="check">
        <input
          type="checkbox"
          checked={remember}
          onChange={(e) => {
            const checked = (e.currentTarget as HTMLInputElement).checked;
            setRemember(checked);
            // The key in use moves to where the box now says.
            if (props.currentKey) props.onKey(props.currentKey, checked, false);
          }}
        />
        Remember the key in this browser (localStorage) instead of this tab only
      </label>
      <div class="columns">
        <form onSubmit={register} noValidate aria-labelledby="register-heading">
          <h3 id="register-heading">Register</h3>
          <Field id="register-name" label="First name" error={fieldError(error, 'name')}>
            <input {...input('name')} autocomplete="given-name" />
          </Field>
          <Field id="register-last_name" label="Last name" error={fieldError(error, 'last_name')}>
            <input {...input('last_name')} autocomplete="family-name" />
          </Field>
          <Field id="register-email" label="Email" error={fieldError(error, 'email')}>
            <input {...input('email')} type="email" autocomplete="email" />
          </Field>
          <ErrorNote error={formError(error, REGISTER_FIELDS)} />
          <button type="submit" disabled={busy}>
            {busy ? 'Registering…' : 'Register and get a key'}
          </button>
        </form>
        <form onSubmit={usePasted} aria-labelledby="paste-heading">
          <h3 id="paste-heading">Use a key you have</h3>
          <Field id="paste-key" label="API key">
            <input id="paste-key" type="password" autocomplete="off" spellcheck={false} value={pasted} onInput={(e) => setPasted((e.currentTarget as HTMLInputElement).value)} />
          </Field>
          <button type="submit">Use this key</button>
        </form>
      </div>
    </section>
  );
}

/** The key just registered, shown once above the view until put away; "Copy key" puts it on the clipboard. */
export function NewKeyNote(props: { apiKey: string; onDone: () => void }) {
  const [copied, setCopied] = useState('');
  async function copy() {
    try {
      await navigator.clipboard.writeText(props.apiKey);
      setCopied('Copied to the clipboard.');
    } catch {
      setCopied('The browser refused the clipboard: select the key and copy it by hand.');
    }
  }
  return (
    <div class="note success new-key" role="status">
      <p>
        <strong>Welcome! Your new key — shown this once.</strong> The service keeps only its hash: copy it somewhere safe. This page uses it already.
      </p>
      <div class="key-row">
        <output id="new-key" class="key">
          {props.apiKey}
        </output>
        <button type="button" onClick={copy}>
          Copy key
        </button>
        <button type="button" class="secondary" onClick={props.onDone}>
          I have saved it
        </button>
      </div>
      {copied && <small role="status">{copied}</small>}
    </div>
  );
}
