import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { type Answer, type Bar, call, type History, isAbort, type Quote, type SearchMatch } from './api';
import { PriceChart, RANGES, type Range, rangeStart, Segmented } from './chart';
import { formatMoney, formatPercent, formatPrice, formatSigned, formatVolume, percentChange } from './format';
import { knownName, rememberMatch, useCompanyName } from './names';
import { ErrorNote, StaleBadge } from './ui';

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

/** The match Enter takes when nothing is highlighted by hand: the ticker typed, when one is listed, else the best (first). */
function defaultIndex(matches: SearchMatch[], typed: string): number {
  const exact = matches.findIndex((m) => m.symbol.toUpperCase() === typed.trim().toUpperCase());
  return exact >= 0 ? exact : 0;
}

/**
 * Search as you type, as an ARIA 1.2 combobox: the field keeps focus, the list is a listbox whose
 * highlighted option is the field's aria-activedescendant; ↓/↑ move the highlight, Enter picks it,
 * Escape closes the list. Searches are debounced, the stale one aborted, each answer kept for the visit.
 */
function SymbolSearch(props: { apiKey: string; onPick: (symbol: string) => void }) {
  const [text, setText] = useState('');
  const [matches, setMatches] = useState<{ query: string; list: SearchMatch[] } | null>(null);
  const [highlight, setHighlight] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  /** Escape, Enter or a pick closes the suggestions; typing opens them again. */
  const [open, setOpen] = useState(true);
  /** Enter pressed before the list came: the search goes at once, and its best match is picked when it answers. */
  const [pickWhenAnswered, setPickWhenAnswered] = useState(false);
  const cache = useRef(new Map<string, SearchMatch[]>());
  const query = text.trim().replace(/\s+/g, ' ').toLowerCase();

  function answered(list: SearchMatch[]) {
    setMatches({ query, list });
    setHighlight(defaultIndex(list, text));
  }

  useEffect(() => {
    setError(null);
    // Closed (Escape, or a pick showed a symbol): a search not yet sent is not sent — it would cost a request for a list nobody sees.
    if (!open && !pickWhenAnswered) return;
    if (!query || !SEARCHABLE.test(query)) {
      setMatches(null);
      return;
    }
    const known = cache.current.get(query);
    if (known) {
      answered(known);
      return;
    }
    const aborter = new AbortController();
    const timer = setTimeout(
      async () => {
        setBusy(true);
        try {
          const answer = await call<{ matches: SearchMatch[] }>(`/api/v1/search/?q=${encodeURIComponent(query)}`, { key: props.apiKey, signal: aborter.signal });
          cache.current.set(query, answer.body.matches);
          answered(answer.body.matches);
        } catch (failure) {
          if (!isAbort(failure)) setError(failure);
          setPickWhenAnswered(false);
        } finally {
          setBusy(false);
        }
      },
      pickWhenAnswered ? 0 : SEARCH_DEBOUNCE_MS,
    );
    // A newer keystroke: the pending search is not sent, or the one in flight is abandoned.
    return () => {
      clearTimeout(timer);
      aborter.abort();
      setBusy(false);
    };
  }, [query, open, pickWhenAnswered, props.apiKey]);

  // Enter came before the list: pick from it as soon as it is here (none found: say so, the list shows it).
  useEffect(() => {
    if (!pickWhenAnswered || !matches || matches.query !== query) return;
    setPickWhenAnswered(false);
    const best = matches.list[defaultIndex(matches.list, text)];
    if (best) pick(best);
    else setOpen(true);
  }, [matches, pickWhenAnswered]);

  function pick(match: SearchMatch) {
    rememberMatch(match);
    setOpen(false);
    setText(match.symbol);
    props.onPick(match.symbol);
  }

  const list = matches && matches.query === query ? matches.list.slice(0, 10) : null;
  const shown = Boolean(list && open);

  function submit(event: Event) {
    event.preventDefault();
    if (list && list.length > 0) return pick(list[Math.min(highlight, list.length - 1)]!);
    // A ticker this browser has already seen quoted needs no search.
    const typed = text.trim().toUpperCase();
    if (SYMBOL.test(typed) && knownName(typed)?.name) {
      setOpen(false);
      return props.onPick(typed);
    }
    if (SEARCHABLE.test(query)) setPickWhenAnswered(true);
    else if (SYMBOL.test(typed)) props.onPick(typed); // one letter (F, T): shown as typed, not searched
  }

  function onKeyDown(e: KeyboardEvent) {
    if (e.key === 'Escape' && shown) {
      // Closes the suggestions, keeping the text.
      e.preventDefault();
      setOpen(false);
    } else if ((e.key === 'ArrowDown' || e.key === 'ArrowUp') && list && list.length > 0) {
      e.preventDefault();
      if (!open) return setOpen(true);
      const step = e.key === 'ArrowDown' ? 1 : -1;
      setHighlight((highlight + step + list.length) % list.length);
    }
  }

  return (
    <form class="search" role="search" onSubmit={submit}>
      <label for="symbol-search">Find a symbol</label>
      <div class="row">
        <input
          id="symbol-search"
          type="text"
          role="combobox"
          inputMode="search"
          enterKeyHint="search"
          autocomplete="off"
          spellcheck={false}
          placeholder="Company or ticker, e.g. International Business Machines or IBM"
          value={text}
          aria-autocomplete="list"
          aria-controls="search-results"
          aria-expanded={shown}
          aria-activedescendant={shown && list && list.length > 0 ? `match-${highlight}` : undefined}
          aria-describedby="search-hint"
          onInput={(e) => {
            setText((e.currentTarget as HTMLInputElement).value);
            setOpen(true);
            setPickWhenAnswered(false);
          }}
          onKeyDown={onKeyDown}
        />
        <button type="submit">Show</button>
      </div>
      <small id="search-hint" class="hint">
        ↑ ↓ move through the matches, Enter shows the highlighted one, Escape closes the list. Each search costs one request.
      </small>
      {busy && (
        <small class="muted" role="status">
          Searching…
        </small>
      )}
      <ErrorNote error={error} />
      {shown && list && (
        <ul id="search-results" class="matches" role="listbox" aria-label="Matching symbols">
          {list.length === 0 && (
            <li class="muted empty" role="presentation">
              No symbol matches “{text.trim()}”.
            </li>
          )}
          {list.map((match, index) => (
            <li
              key={`${match.symbol}-${match.provider}`}
              id={`match-${index}`}
              role="option"
              class="match"
              aria-selected={index === highlight}
              onMouseDown={(e) => e.preventDefault() /* the field keeps focus */}
              onMouseMove={() => index !== highlight && setHighlight(index)}
              onClick={() => pick(match)}
            >
              <strong class="match-symbol">{match.symbol}</strong> <span class="match-name">{match.name}</span>
              <small class="muted">{[match.type, match.exchange ?? match.region, match.currency].filter(Boolean).join(' · ')}</small>
            </li>
          ))}
        </ul>
      )}
    </form>
  );
}

function QuoteCard(props: { apiKey: string; answer: Answer<Quote>; volume: number | null; onWatch: () => void; watched: boolean }) {
  const q = props.answer.body;
  const company = useCompanyName(props.apiKey, q.symbol);
  const currency = q.currency ?? company?.currency ?? null;
  const percent = percentChange(q.close_value, q.variation_between_last_two_days);
  const direction = q.variation_between_last_two_days > 0 ? 'up' : q.variation_between_last_two_days < 0 ? 'down' : '';
  return (
    <article class="quote card" aria-labelledby="quote-symbol" aria-live="polite">
      <div class="quote-head">
        <div>
          <h3 id="quote-symbol">{q.symbol}</h3>
          <p id="quote-name" class="company">
            {company?.name ?? (company === undefined ? '…' : 'Name not known')}
            {company?.exchange && <span class="muted"> · {company.exchange}</span>}
          </p>
        </div>
        <StaleBadge stale={props.answer.stale} />
        <button type="button" class="secondary" onClick={props.onWatch} disabled={props.watched}>
          {props.watched ? '★ In your watchlist' : '☆ Add to watchlist'}
        </button>
      </div>
      <p class="price">
        <span id="quote-close" class="num big">
          {formatPrice(q.close_value)}
        </span>{' '}
        <span id="quote-currency" class="currency">
          {currency ?? ''}
        </span>{' '}
        <span id="quote-change" class={`num change ${direction}`}>
          {formatSigned(q.variation_between_last_two_days, formatMoney)}
          {percent !== null && <> ({formatSigned(percent, formatPercent, '%')})</>}
        </span>
      </p>
      <p class="muted as-of">
        Close of <time dateTime={q.last_refreshed}>{q.last_refreshed}</time>
      </p>
      <dl class="facts">
        {(
          [
            ['Open', formatPrice(q.open_value)],
            ['High', formatPrice(q.high_value)],
            ['Low', formatPrice(q.low_value)],
            ['Volume', props.volume === null ? '—' : formatVolume(props.volume)],
            ['Source', q.source],
          ] as const
        ).map(([term, value]) => (
          <div key={term}>
            <dt>{term}</dt>
            <dd class="num" data-fact={term.toLowerCase()}>
              {value}
            </dd>
          </div>
        ))}
      </dl>
    </article>
  );
}

const CHART_KINDS = ['Line', 'Candles'] as const;

function PriceHistory({ apiKey, symbol, onBars }: { apiKey: string; symbol: string; onBars: (bars: Bar[]) => void }) {
  const [range, setRange] = useState<Range>('1Y');
  const [adjusted, setAdjusted] = useState(false);
  const [kind, setKind] = useState<(typeof CHART_KINDS)[number]>('Line');
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
      .then((a) => {
        setAnswer(a);
        if (!a.body.adjusted) onBars(a.body.bars);
      })
      .catch((failure) => isAbort(failure) || setError(failure))
      .finally(() => aborter.signal.aborted || setPending(false));
    return () => aborter.abort();
  }, [apiKey, symbol, from, adjusted]);

  const bars = useMemo(() => answer?.body.bars.slice().sort((a, b) => (a.date < b.date ? -1 : 1)) ?? [], [answer]);
  const shownAdjusted = answer?.body.adjusted ?? adjusted;
  return (
    <section class="history card" aria-label="Price history">
      <div class="toolbar">
        <Segmented label="History range" value={range} onChange={setRange} options={RANGES} />
        <Segmented label="Chart type" value={kind} onChange={setKind} options={CHART_KINDS} />
        <label class="check">
          <input id="adjusted" type="checkbox" checked={adjusted} onChange={(e) => setAdjusted((e.currentTarget as HTMLInputElement).checked)} />
          Adjusted for splits and dividends
        </label>
        {answer && <StaleBadge stale={answer.stale} />}
        {pending && (
          <small class="muted" role="status">
            Loading…
          </small>
        )}
      </div>
      <ErrorNote error={error} />
      {answer && (
        <>
          <PriceChart bars={bars} candles={kind === 'Candles'} label={`${symbol} daily ${kind === 'Candles' ? 'candles' : 'close'} and volume, ${range}, ${shownAdjusted ? 'adjusted' : 'as traded'}`} />
          <p id="history-summary" class="muted small" data-adjusted={String(shownAdjusted)}>
            {bars.length} sessions{bars.length > 0 && <> from {bars[0]!.date} ({formatPrice(bars[0]!.close)}) to {bars[bars.length - 1]!.date} ({formatPrice(bars[bars.length - 1]!.close)})</>},{' '}
            {shownAdjusted ? 'adjusted' : 'as traded'}.
            {/* 5Y and All can only show what is stored: the sandbox and Twelve Data give up to 5,000 sessions, Alpha Vantage's free tier the last 100; older ones come from import-prices. */}
            {range !== 'All' && bars.length > 0 && daysBetween(from, bars[0]!.date) > 7 && <> The service holds no earlier session for this range.</>}
          </p>
        </>
      )}
    </section>
  );
}

function daysBetween(a: string, b: string): number {
  return (Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000;
}

/** Look a symbol up: its quote and its daily chart. */
export function Market(props: { apiKey: string; symbol: string | null; onSymbol: (symbol: string) => void; watchlist: string[]; onWatch: (symbol: string) => void }) {
  const [quote, setQuote] = useState<Answer<Quote> | null>(null);
  const [error, setError] = useState<unknown>(null);
  /** The as-traded bars of the chart: the quote's session volume is read from them (the quote has none), at no extra request. */
  const [bars, setBars] = useState<Bar[]>([]);
  const { symbol } = props;

  useEffect(() => {
    if (!symbol) return;
    const aborter = new AbortController();
    setQuote(null);
    setError(null);
    setBars([]);
    call<Quote>(`/api/v1/symbol/${encodeURIComponent(symbol)}/`, { key: props.apiKey, signal: aborter.signal })
      .then(setQuote)
      .catch((failure) => isAbort(failure) || setError(failure));
    return () => aborter.abort();
  }, [props.apiKey, symbol]);

  const volume = quote ? (bars.find((bar) => bar.date === quote.body.last_refreshed)?.volume ?? null) : null;
  return (
    <section class="panel" aria-labelledby="market-heading">
      <h2 id="market-heading" class="sr-only">
        Market
      </h2>
      <SymbolSearch apiKey={props.apiKey} onPick={props.onSymbol} />
      <ErrorNote error={error} />
      {!symbol && <p class="muted empty-state">Search for a company or a ticker to see its quote and chart.</p>}
      {symbol && !quote && !error && (
        <p class="muted" role="status">
          Loading {symbol}…
        </p>
      )}
      {quote && (
        <QuoteCard apiKey={props.apiKey} answer={quote} volume={volume} watched={props.watchlist.includes(quote.body.symbol)} onWatch={() => props.onWatch(quote.body.symbol)} />
      )}
      {symbol && quote && <PriceHistory apiKey={props.apiKey} symbol={quote.body.symbol} onBars={setBars} />}
    </section>
  );
}
