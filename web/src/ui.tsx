import type { ComponentChildren } from 'preact';
import { ApiError, NetworkError } from './api';
import { formatMoney, formatSigned } from './format';

/** "86355 seconds" → "23 h 59 min": the wait a 429 names, in words a person reads. */
export function formatWait(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

const HEADINGS: Record<number, string> = {
  401: 'Your key was not accepted (401)',
  403: 'Not allowed (403)',
  429: 'Too many requests (429)',
};

/** An error as the service worded it, with what to do about the ones a person can act on. */
export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  if (error instanceof ApiError) {
    const heading = HEADINGS[error.status] ?? `The service answered ${error.status}`;
    return (
      <div class="note error" role="alert">
        <strong>{heading}:</strong> {error.detail}
        {error.status === 429 && error.retryAfter !== undefined && <> You can try again in {formatWait(error.retryAfter)}.</>}
        {error.status === 401 && <> Paste another key or register under “Key”.</>}
      </div>
    );
  }
  if (error instanceof NetworkError) return <div class="note error" role="alert">{error.message}</div>;
  return (
    <div class="note error" role="alert">
      Something went wrong in the page: {String((error as Error).message ?? error)}
    </div>
  );
}

/** The service's words for one field (`{"detail": "email: …", "field": "email"}`), next to it. */
export function fieldError(error: unknown, field: string): string | undefined {
  return error instanceof ApiError && error.field === field ? error.detail : undefined;
}

/**
 * The props of a text input bound to one field of a form's state: its id (`${form}-${name}`), value, input
 * handler, and the field's error from the service linked for screen readers.
 */
export function textInput<F extends Record<string, string>>(
  formId: string,
  name: keyof F & string,
  state: { form: F; setForm: (form: F) => void; error: unknown },
) {
  const { form, setForm, error } = state;
  return {
    id: `${formId}-${name}`,
    name,
    value: form[name],
    'aria-invalid': fieldError(error, name) ? true : undefined,
    'aria-describedby': fieldError(error, name) ? `${formId}-${name}-error` : undefined,
    onInput: (e: Event) => setForm({ ...form, [name]: (e.currentTarget as HTMLInputElement).value }),
  };
}

export function Field(props: { id: string; label: string; error?: string | undefined; hint?: string; children: ComponentChildren }) {
  return (
    <div class={`field${props.error ? ' invalid' : ''}`}>
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.hint && !props.error && <small id={`${props.id}-hint`} class="hint">{props.hint}</small>}
      {props.error && (
        <small id={`${props.id}-error`} class="field-error" role="alert">
          {props.error}
        </small>
      )}
    </div>
  );
}

/** The error of a form that no single field owns (a 429, a network error, a 5xx). */
export function formError(error: unknown, fields: string[]): unknown {
  return error instanceof ApiError && error.field && fields.includes(error.field) ? null : error;
}

/**
 * Marks data served stale (every provider failed; older stored data is shown). Where an answer came
 * from (X-Cache HIT or MISS) is not the reader's concern on a card: it is on the Usage view.
 */
export function StaleBadge({ stale }: { stale: boolean }) {
  if (!stale) return null;
  return (
    <span class="badge stale" title="Every provider failed; older stored data is shown (X-Cache: STALE)">
      STALE data
    </span>
  );
}

/** A change the service sent, coloured by its sign, with the sign written (+1.25, −0.40), 2 decimals. */
export function Signed({ value, suffix = '' }: { value: string | number | null | undefined; suffix?: string }) {
  if (value === null || value === undefined) return <span class="muted">—</span>;
  const number = Number(value);
  const direction = number < 0 ? 'down' : number > 0 ? 'up' : '';
  return (
    <span class={`num ${direction}`} title={String(value)}>
      {formatSigned(value, formatMoney, suffix)}
    </span>
  );
}
