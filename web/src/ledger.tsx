import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, call, isAbort, NetworkError, type Trade } from './api';
import { LEDGER_READ_MAX, type LedgerRead, readLedger } from './trades';
import { ErrorNote, Field, fieldError, formError, textInput } from './ui';

const PAGE_SIZE = 20;
const TRADE_FIELDS = ['type', 'user_id', 'symbol', 'shares', 'price', 'timestamp', 'body'];

/**
 * A random UUID v4 for Idempotency-Key. crypto.randomUUID exists only in secure contexts
 * (https, localhost); a service reached over plain http on a network gets one from getRandomValues.
 */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A number field as typed: an integer goes as a number; anything else as typed, for the service to word the problem. */
function asSent(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  return /^-?\d+$/.test(trimmed) ? Number(trimmed) : trimmed;
}

/**
 * A trade's epoch milliseconds as `YYYY-MM-DD HH:MM:SS` (UTC). The API takes any integer up to 2^53−1,
 * but a JS Date ends at 8.64e15 ms (year 275760): past that, `toISOString` throws, which would unmount
 * the whole page for anyone whose page of the ledger holds such a trade. Those are shown as the number sent.
 */
export function formatTimestamp(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? `${ms} ms` : date.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, '');
}

function localNow(): string {
  const now = new Date();
  return new Date(now.getTime() - now.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

function RecordTrade(props: { onRecorded: (trade: Trade) => void }) {
  const [form, setForm] = useState({ type: 'buy', user_id: '', symbol: '', shares: '', price: '', when: localNow() });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string>('');
  /** One key per intended trade: kept while a retry may still be the same trade, replaced after success. */
  const attempt = useRef<string | null>(null);
  const [retrying, setRetrying] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    attempt.current ??= newIdempotencyKey();
    setBusy(true);
    setError(null);
    setDone('');
    const timestamp = form.when ? new Date(form.when).getTime() : undefined;
    const body = {
      type: form.type,
      user_id: asSent(form.user_id),
      symbol: form.symbol.trim() === '' ? undefined : form.symbol.trim(),
      shares: asSent(form.shares),
      price: asSent(form.price),
      timestamp: Number.isFinite(timestamp) ? timestamp : undefined,
    };
    try {
      const answer = await call<Trade>('/trades', { method: 'POST', body, headers: { 'idempotency-key': attempt.current } });
      attempt.current = null;
      setRetrying(false);
      const replayed = answer.headers.get('idempotent-replayed') === 'true';
      setDone(`Recorded trade #${answer.body.id}${replayed ? ' (it had been recorded by the first attempt; recorded once)' : ''}.`);
      props.onRecorded(answer.body);
    } catch (failure) {
      const unsure = failure instanceof NetworkError || (failure instanceof ApiError && failure.status >= 500);
      // Unsure whether it was written: the retry must be the same trade, so it keeps its key.
      setRetrying(unsure);
      // 422: this key went with another body (the first attempt was recorded as it was then): a new trade needs a new key.
      if (failure instanceof ApiError && failure.status === 422) attempt.current = null;
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  const input = (name: 'user_id' | 'symbol' | 'shares' | 'price') => textInput('trade', name, { form, setForm, error });

  return (
    <form class="trade-form" onSubmit={submit} noValidate aria-labelledby="record-heading">
      <h3 id="record-heading">Record a trade</h3>
      <div class="grid-fields">
        <Field id="trade-type" label="Type" error={fieldError(error, 'type')}>
          <select id="trade-type" value={form.type} onChange={(e) => setForm({ ...form, type: (e.currentTarget as HTMLSelectElement).value })}>
            <option value="buy">buy</option>
            <option value="sell">sell</option>
          </select>
        </Field>
        <Field id="trade-user_id" label="User id" error={fieldError(error, 'user_id')}>
          <input {...input('user_id')} inputMode="numeric" />
        </Field>
        <Field id="trade-symbol" label="Symbol" error={fieldError(error, 'symbol')}>
          <input {...input('symbol')} autocomplete="off" />
        </Field>
        <Field id="trade-shares" label="Shares (1–100)" error={fieldError(error, 'shares')}>
          <input {...input('shares')} inputMode="numeric" />
        </Field>
        <Field id="trade-price" label="Price per share (integer)" error={fieldError(error, 'price')}>
          <input {...input('price')} inputMode="numeric" />
        </Field>
        <Field id="trade-when" label="When (your time)" error={fieldError(error, 'timestamp')}>
          <input id="trade-when" type="datetime-local" value={form.when} onInput={(e) => setForm({ ...form, when: (e.currentTarget as HTMLInputElement).value })} />
        </Field>
      </div>
      <ErrorNote error={formError(error, TRADE_FIELDS.slice(0, -1))} />
      {retrying && <p class="note">It may or may not have been recorded. “Retry” sends it again with the same Idempotency-Key, so it is recorded once.</p>}
      {done && (
        <p class="note success" role="status">
          {done}
        </p>
      )}
      <button type="submit" disabled={busy}>
        {busy ? 'Recording…' : retrying ? 'Retry' : 'Record trade'}
      </button>
    </form>
  );
}

/**
 * The ledger, newest first: GET /trades with its filters, read to its end (trades.ts: the API lists
 * oldest first and pages forward only), shown 20 at a time; and recording.
 */
export function Ledger() {
  const [filters, setFilters] = useState({ user_id: '', type: '', symbol: '' });
  const [applied, setApplied] = useState<Record<string, string>>({});
  const [read, setRead] = useState<LedgerRead | null>(null);
  const [pageIndex, setPageIndex] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const aborter = new AbortController();
    setError(null);
    readLedger(applied, aborter.signal)
      .then((answer) => {
        setRead({ trades: answer.trades.reverse(), complete: answer.complete });
      })
      .catch((failure) => isAbort(failure) || setError(failure));
    return () => aborter.abort();
  }, [applied, reload]);

  function applyFilters(event: Event) {
    event.preventDefault();
    const chosen: Record<string, string> = {};
    for (const [name, value] of Object.entries(filters)) if (value.trim() !== '') chosen[name] = value.trim();
    setPageIndex(0);
    setRead(null);
    setApplied(chosen);
  }

  const filter = (name: 'user_id' | 'symbol') => ({
    id: `filter-${name}`,
    value: filters[name],
    'aria-invalid': fieldError(error, name) ? true : undefined,
    onInput: (e: Event) => setFilters({ ...filters, [name]: (e.currentTarget as HTMLInputElement).value }),
  });

  const trades = read?.trades.slice(pageIndex * PAGE_SIZE, (pageIndex + 1) * PAGE_SIZE) ?? null;
  const pages = read ? Math.max(1, Math.ceil(read.trades.length / PAGE_SIZE)) : 1;
  return (
    <section class="panel" aria-labelledby="ledger-heading">
      <h2 id="ledger-heading">Trade ledger</h2>
      <RecordTrade
        onRecorded={() => {
          setPageIndex(0);
          setReload(reload + 1);
        }}
      />
      <form class="filters" onSubmit={applyFilters} aria-label="Filter trades">
        <Field id="filter-user_id" label="User id" error={fieldError(error, 'user_id')}>
          <input {...filter('user_id')} inputMode="numeric" />
        </Field>
        <Field id="filter-type" label="Type" error={fieldError(error, 'type')}>
          <select id="filter-type" value={filters.type} onChange={(e) => setFilters({ ...filters, type: (e.currentTarget as HTMLSelectElement).value })}>
            <option value="">any</option>
            <option value="buy">buy</option>
            <option value="sell">sell</option>
          </select>
        </Field>
        <Field id="filter-symbol" label="Symbol" error={fieldError(error, 'symbol')}>
          <input {...filter('symbol')} autocomplete="off" />
        </Field>
        <button type="submit" class="secondary">
          Filter
        </button>
      </form>
      <ErrorNote error={formError(error, ['user_id', 'type', 'symbol'])} />
      {trades === null && !error && (
        <p class="muted" role="status">
          Loading…
        </p>
      )}
      {read && !read.complete && (
        <p class="note">
          The ledger holds more than {LEDGER_READ_MAX.toLocaleString('en-US')} matching trades: the page read that many, from the oldest, and lists them
          newest first. Filter by user or symbol to see the newest.
        </p>
      )}
      {trades && (
        <div class="table-wrap">
          <table id="trades" class="cards cards-3">
            <caption class="sr-only">Trades, newest first</caption>
            <thead>
              <tr>
                <th scope="col" class="num">Id</th>
                <th scope="col">Type</th>
                <th scope="col" class="num">User</th>
                <th scope="col">Symbol</th>
                <th scope="col" class="num">Shares</th>
                <th scope="col" class="num">Price</th>
                <th scope="col">When (UTC)</th>
              </tr>
            </thead>
            <tbody>
              {trades.length === 0 && (
                <tr>
                  <td colSpan={7} class="muted">
                    No trades match.
                  </td>
                </tr>
              )}
              {trades.map((trade) => (
                <tr key={trade.id} data-id={trade.id}>
                  <td class="num" data-label="Id">{trade.id}</td>
                  <td data-label="Type">
                    <span class={`pill ${trade.type}`}>{trade.type}</span>
                  </td>
                  <td class="num" data-label="User">{trade.user_id}</td>
                  <td data-label="Symbol">{trade.symbol}</td>
                  <td class="num" data-label="Shares">{trade.shares}</td>
                  <td class="num" data-label="Price">{trade.price}</td>
                  <td class="whole-row" data-label="When (UTC)">{formatTimestamp(trade.timestamp)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Trade pages">
        {read && read.trades.length > 0 && (
          <span class="muted small">
            Page {pageIndex + 1} of {pages} · {read.trades.length} trades
          </span>
        )}
        <button type="button" class="secondary" disabled={pageIndex === 0} onClick={() => setPageIndex(pageIndex - 1)}>
          ← Newer
        </button>
        <button type="button" class="secondary" disabled={pageIndex + 1 >= pages} onClick={() => setPageIndex(pageIndex + 1)}>
          Older →
        </button>
      </nav>
    </section>
  );
}
