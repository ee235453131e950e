import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { type Answer, call, type History, isAbort, type Quote, type SearchMatch } from './api';
import { LineChart, RangePicker, type Range, rangeStart } from './chart';
import { ErrorNote, Signed, StaleBadge } from './ui';

/** How long typing must pause before a search is sent: each search costs one request of the allowance. */
const SEARCH_DEBOUNCE_MS = 350;

/**
 * What the service accepts as `q` (README: letters, digits, spaces and . , & ' ( ) -): others are not sent.
 * As you type, at least 2 characters: one letter matches half the market and is rarely what is meant,
 * yet costs a request (and, not yet cached, an upstream lookup of the fair share). Enter still shows a
 * one-letter ticker (F, T) as typed.
 */
const SEARCHABLE = /^[\p{L}\p{N} .,&'()-]{2,64}$/u;
const SYMBOL = /^[A-Za-z0-9][A-Za-z0-9.-]{0,14}$/;

/** Search as you type: debounced, the stale request aborted, each answer kept for the visit. */
function SymbolSearch(props: { apiKey: string; onPick: (symbol: string) => void }) {
  const [text, setText] = useState('');
  const [matches, setMatches] = useState<SearchMatch[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  /** Escape, Enter or a pick closes the suggestions; typing opens them again. */
  const [open, setOpen] = useState(true);
  const cache = useRef(new Map<string, SearchMatch[]>());

  useEffect(() => {
    const query = text.trim().replace(/\s+/g, ' ').toLowerCase();
    setError(null);
    // Closed (Escape, or Enter/a pick showed a symbol): a search not yet sent is not sent — it would cost a request for a list nobody sees.
    if (!open) return;
    if (!query || !SEARCHABLE.test(query)) {
      setMatches(null);
      return;
    }
    const known = cache.current.get(query);
    if (known) {
      setMatches(known);
      return;
    }
    const aborter = new AbortController();
    const timer = setTimeout(async () => {
      setBusy(true);
      try {
        const answer = await call<{ matches: SearchMatch[] }>(`/api/v1/search/?q=${encodeURIComponent(query)}`, { key: props.apiKey, signal: aborter.signal });
        cache.current.set(query, answer.body.matches);
        setMatches(answer.body.matches);
      } catch (failure) {
        if (!isAbort(failure)) setError(failure);
      } finally {
        setBusy(false);
      }
    }, SEARCH_DEBOUNCE_MS);
    // A newer keystroke: the pending search is not sent, or the one in flight is abandoned.
    return () => {
      clearTimeout(timer);
      aborter.abort();
      setBusy(false);
    };
  }, [text, open, props.apiKey]);

  function pick(symbol: string) {
    setOpen(false);
    props.onPick(symbol);
  }

  function submit(event: Event) {
    event.preventDefault();
    const typed = text.trim();
    // The ticker typed, when it is one (as a match spells it, if one does); else the best match.
    const exact = matches?.find((m) => m.symbol.toUpperCase() === typed.toUpperCase())?.symbol;
    const first = matches?.[0]?.symbol;
    if (exact) pick(exact);
    else if (SYMBOL.test(typed)) pick(typed.toUpperCase());
    else if (first) pick(first);
  }

  return (
    <form class="search" role="search" onSubmit={submit}>
      <label for="symbol-search">Find a symbol (company name or ticker)</label>
      <div class="row">
        <input
          id="symbol-search"
          type="search"
          autocomplete="off"
          placeholder="e.g. IBM or international"
          value={text}
          aria-controls="search-results"
          aria-describedby="search-hint"
          aria-expanded={Boolean(matches && open)}
          onInput={(e) => {
            setText((e.currentTarget as HTMLInputElement).value);
            setOpen(true);
          }}
          onKeyDown={(e) => {
            if (e.key === 'Escape' && matches && open) {
              // Closes the suggestions (and keeps the text: a type="search" field would clear it).
              e.preventDefault();
              setOpen(false);
            }
          }}
        />
        <button type="submit">Show</button>
      </div>
      <small id="search-hint" class="hint">
        Each search you pause on (2 characters or more) costs one request of your allowance; Enter shows a ticker as typed, Escape closes the list.
      </small>
      {busy && <small class="muted" role="status">Searching…</small>}
      <ErrorNote error={error} />
      {matches && open && (
        <ul id="search-results" class="matches" aria-label="Search results">
          {matches.length === 0 && <li class="muted">No symbol matches “{text.trim()}”.</li>}
          {matches.slice(0, 10).map((match) => (
            <li key={`${match.symbol}-${match.provider ?? ''}`}>
              <button
                type="button"
                class="match"
                onClick={() => pick(match.symbol)}
                onKeyDown={(e) => {
                  if (e.key === 'Escape') {
                    setOpen(false);
                    document.getElementById('symbol-search')?.focus();
                  }
                }}
              >
                <strong>{match.symbol}</strong> <span>{match.name}</span>{' '}
                <small class="muted">
                  {[match.type, match.region ?? match.exchange, match.currency].filter(Boolean).join(' · ')}
                </small>
              </button>
            </li>
          ))}
        </ul>
      )}
    </form>
  );
}

function QuoteCard({ answer, onWatch, watched }: { answer: Answer<Quote>; onWatch: () => void; watched: boolean }) {
  const q = answer.body;
  return (
    <div class="quote" aria-live="polite">
      <div class="quote-head">
        <h3 id="quote-symbol">{q.symbol}</h3>
        <StaleBadge stale={answer.stale} cache={answer.cache} />
        <button type="button" onClick={onWatch} disabled={watched}>
          {watched ? 'In your watchlist' : 'Add to watchlist'}
        </button>
      </div>
      <p class="price">
        <span id="quote-close" class="num big">{q.close_value}</span> {q.currency ?? ''}{' '}
        <Signed value={q.variation_between_last_two_days} />
      </p>
      <dl class="facts">
        {(
          [
            ['Session', q.last_refreshed],
            ['Open', q.open_value],
            ['High', q.high_value],
            ['Low', q.low_value],
            ['Source', q.source],
          ] as const
        ).map(([term, value]) => (
          <div key={term}>
            <dt>{term}</dt>
            <dd class="num">{value}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}

function PriceHistory({ apiKey, symbol }: { apiKey: string; symbol: string }) {
  const [range, setRange] = useState<Range>('1Y');
  const [adjusted, setAdjusted] = useState(false);
  const [answer, setAnswer] = useState<Answer<History> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [pending, setPending] = useState(false);
  const from = rangeStart(range);

  useEffect(() => {
    const aborter = new AbortController();
    setError(null);
    setPending(true);
    const params = new URLSearchParams({ from, adjusted: String(adjusted) });
    call<History>(`/api/v1/symbol/${encodeURIComponent(symbol)}/history/?${params}`, { key: apiKey, signal: aborter.signal })
      .then(setAnswer)
      .catch((failure) => isAbort(failure) || setError(failure))
      .finally(() => aborter.signal.aborted || setPending(false));
    return () => aborter.abort();
  }, [apiKey, symbol, from, adjusted]);

  const bars = answer?.body.bars ?? [];
  const dates = useMemo(() => bars.map((bar) => bar.date), [bars]);
  const series = useMemo(() => [{ label: 'Close', colorVar: '--series-1', values: bars.map((bar) => Number(bar.close)) }], [bars]);
  const shownAdjusted = answer?.body.adjusted ?? adjusted;
  return (
    <div class="history">
      <div class="toolbar">
        <RangePicker label="History range" value={range} onChange={setRange} />
        <label class="check">
          <input id="adjusted" type="checkbox" checked={adjusted} onChange={(e) => setAdjusted((e.currentTarget as HTMLInputElement).checked)} />
          Adjusted for splits and dividends
        </label>
        {answer && <StaleBadge stale={answer.stale} cache={answer.cache} />}
        {pending && (
          <small class="muted" role="status">
            Loading…
          </small>
        )}
      </div>
      <ErrorNote error={error} />
      {answer && (
        <>
          <LineChart dates={dates} series={series} label={`${symbol} daily close, ${range}, ${shownAdjusted ? 'adjusted' : 'as traded'}`} />
          <p id="history-summary" class="muted" data-adjusted={String(shownAdjusted)}>
            {bars.length} sessions{bars.length > 0 && <> from {bars[0]!.date} ({bars[0]!.close}) to {bars[bars.length - 1]!.date} ({bars[bars.length - 1]!.close})</>},{' '}
            {shownAdjusted ? 'adjusted' : 'as traded'}.
            {/* 5Y and All can only show what is stored: providers give the last 100 sessions, older ones come from import-prices. */}
            {range !== 'All' && bars.length > 0 && daysBetween(from, bars[0]!.date) > 7 && <> The service holds no earlier session for this range.</>}
          </p>
        </>
      )}
    </div>
  );
}

function daysBetween(a: string, b: string): number {
  return (Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000;
}

/** Look a symbol up: its quote and its daily chart. */
export function Market(props: { apiKey: string; symbol: string | null; onSymbol: (symbol: string) => void; watchlist: string[]; onWatch: (symbol: string) => void }) {
  const [quote, setQuote] = useState<Answer<Quote> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const { symbol } = props;

  useEffect(() => {
    if (!symbol) return;
    const aborter = new AbortController();
    setQuote(null);
    setError(null);
    call<Quote>(`/api/v1/symbol/${encodeURIComponent(symbol)}/`, { key: props.apiKey, signal: aborter.signal })
      .then(setQuote)
      .catch((failure) => isAbort(failure) || setError(failure));
    return () => aborter.abort();
  }, [props.apiKey, symbol]);

  return (
    <section class="panel" aria-labelledby="market-heading">
      <h2 id="market-heading">Market</h2>
      <SymbolSearch apiKey={props.apiKey} onPick={props.onSymbol} />
      <ErrorNote error={error} />
      {symbol && !quote && !error && (
        <p class="muted" role="status">
          Loading {symbol}…
        </p>
      )}
      {quote && <QuoteCard answer={quote} watched={props.watchlist.includes(quote.body.symbol)} onWatch={() => props.onWatch(quote.body.symbol)} />}
      {symbol && quote && <PriceHistory apiKey={props.apiKey} symbol={quote.body.symbol} />}
    </section>
  );
}
