import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { type Answer, call, isAbort, type Portfolio as PortfolioBody, type PortfolioHistory, type Position } from './api';
import { LineChart } from './chart';
import { formatMoney, formatPercent, formatPrice, formatShares, formatSigned } from './format';
import { readLedger } from './trades';
import { ErrorNote, Field, fieldError, formError, StaleBadge } from './ui';

/**
 * One user's positions, totals and value over time (GET /api/v1/portfolio/{user_id}/ and its
 * history/). Money is shown exactly as the service computed it (decimal strings), never summed here.
 */
export function Portfolio({ apiKey, userId: routedUser, onUser }: { apiKey: string; userId: string | null; onUser: (userId: string) => void }) {
  const [userId, setUserId] = useState(routedUser ?? '');
  const [asOf, setAsOf] = useState('');
  const [asked, setAsked] = useState<{ userId: string; asOf: string } | null>(routedUser ? { userId: routedUser, asOf: '' } : null);
  const [answer, setAnswer] = useState<Answer<PortfolioBody> | null>(null);
  const [error, setError] = useState<unknown>(null);

  // The user is in the route (#/portfolio/7): a bookmark, the Portfolio tab or Back shows that user's portfolio.
  useEffect(() => {
    if (!routedUser || routedUser === asked?.userId) return;
    setUserId(routedUser);
    setAsked({ userId: routedUser, asOf });
  }, [routedUser]);

  useEffect(() => {
    if (!asked) return;
    const aborter = new AbortController();
    setError(null);
    setAnswer(null);
    const query = asked.asOf ? `?as_of=${encodeURIComponent(asked.asOf)}` : '';
    call<PortfolioBody>(`/api/v1/portfolio/${encodeURIComponent(asked.userId)}/${query}`, { key: apiKey, signal: aborter.signal })
      .then(setAnswer)
      .catch((failure) => isAbort(failure) || setError(failure));
    return () => aborter.abort();
  }, [apiKey, asked]);

  const body = answer?.body;
  return (
    <section class="panel" aria-labelledby="portfolio-heading">
      <h2 id="portfolio-heading">Portfolio</h2>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          const user = userId.trim();
          if (user === '') return;
          setAsked({ userId: user, asOf });
          if (user !== routedUser) onUser(user);
        }}
      >
        <Field id="portfolio-user" label="User id" error={fieldError(error, 'user_id')}>
          <input id="portfolio-user" inputMode="numeric" value={userId} onInput={(e) => setUserId((e.currentTarget as HTMLInputElement).value)} />
        </Field>
        <Field id="portfolio-as-of" label="As of (optional)" error={fieldError(error, 'as_of')}>
          <input id="portfolio-as-of" placeholder="YYYY-MM-DD" inputMode="numeric" autocomplete="off" value={asOf} onInput={(e) => setAsOf((e.currentTarget as HTMLInputElement).value)} />
        </Field>
        <button type="submit">Show portfolio</button>
      </form>
      <ErrorNote error={formError(error, ['user_id', 'as_of'])} />
      {asked && !answer && !error && (
        <p class="muted" role="status">
          Loading…
        </p>
      )}
      {body && (
        <>
          <p class="muted">
            User {body.user_id}, valued {body.as_of ? `at the close of ${body.as_of}` : 'at the latest closes'}. <StaleBadge stale={answer.stale} />
          </p>
          <dl class="totals" id="portfolio-totals">
            <Total name="market_value" label="Market value">
              {formatMoney(body.totals.market_value)}
            </Total>
            <Total name="total_return" label="Total return">
              <SignedMoney value={body.totals.total_return} />
            </Total>
            <Total name="unrealised_pl" label="Unrealised P/L">
              <SignedMoney value={body.totals.unrealised_pl} />{' '}
              <small>
                <SignedMoney value={body.totals.unrealised_pl_percent} format={formatPercent} suffix="%" parenthesised />
              </small>
            </Total>
            <Total name="realised_pl" label="Realised P/L">
              <SignedMoney value={body.totals.realised_pl} />
            </Total>
            <Total name="dividends" label="Dividends">
              {formatMoney(body.totals.dividends)}
            </Total>
            <Total name="day_change" label="Day change">
              <SignedMoney value={body.totals.day_change} />
            </Total>
            <Total name="cost_basis" label="Cost basis">
              {formatMoney(body.totals.cost_basis)}
            </Total>
            <Total name="positions" label="Positions">
              {body.totals.positions}
              {body.totals.unpriced > 0 && <small> ({body.totals.unpriced} without a price)</small>}
            </Total>
          </dl>
          <div class="portfolio-grid">
            <Allocation positions={body.positions} />
            <Performance apiKey={apiKey} userId={String(body.user_id)} to={body.as_of} />
          </div>
          <section class="card" aria-labelledby="positions-heading">
          <h3 id="positions-heading">Positions</h3>
          <div class="table-wrap">
            <table id="positions" class="cards">
              <thead>
                <tr>
                  <th scope="col">Symbol</th>
                  <th scope="col" class="num">Shares</th>
                  <th scope="col" class="num">Avg cost</th>
                  <th scope="col" class="num">Price</th>
                  <th scope="col" class="num">Value</th>
                  <th scope="col" class="num">Unrealised P/L</th>
                  <th scope="col" class="num">Day</th>
                  <th scope="col" class="num">Realised P/L</th>
                  <th scope="col" class="num">Dividends</th>
                  <th scope="col" class="num">Total return</th>
                </tr>
              </thead>
              <tbody>
                {body.positions.length === 0 && (
                  <tr>
                    <td colSpan={10} class="muted">
                      No positions.
                    </td>
                  </tr>
                )}
                {body.positions.map((p) => (
                  <tr key={p.symbol} data-symbol={p.symbol}>
                    <th scope="row">
                      {p.symbol} {p.side !== 'long' && <small class="badge">{p.side}</small>}
                    </th>
                    <td class="num" data-label="Shares">{formatShares(p.shares)}</td>
                    <td class="num" data-label="Avg cost">{formatPrice(p.average_cost)}</td>
                    <td class="num" data-label="Price">
                      {p.price !== null ? formatPrice(p.price) : <span class="reason">no price{p.reason ? `: ${p.reason}` : ''}</span>}
                      {p.cache === 'STALE' && <span class="badge stale">STALE</span>}
                      {p.price_date && <small class="muted block">{p.price_date}</small>}
                    </td>
                    <td class="num" data-label="Value" data-field="market_value">{formatMoney(p.market_value)}</td>
                    <td class="num" data-label="Unrealised P/L" data-field="unrealised_pl">
                      <SignedMoney value={p.unrealised_pl} />
                      {p.unrealised_pl_percent !== null && (
                        <small class="block">
                          <SignedMoney value={p.unrealised_pl_percent} format={formatPercent} suffix="%" />
                        </small>
                      )}
                    </td>
                    <td class="num" data-label="Day">
                      <SignedMoney value={p.day_change} />
                    </td>
                    <td class="num" data-label="Realised P/L">
                      <SignedMoney value={p.realised_pl} />
                    </td>
                    <td class="num" data-label="Dividends" data-field="dividends">
                      {formatMoney(p.dividends)}
                    </td>
                    <td class="num" data-label="Total return" data-field="total_return">
                      <SignedMoney value={p.total_return} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p class="muted small">Money to 2 decimals; the API's exact figures (4 decimals) are in each number's tooltip.</p>
          </section>
        </>
      )}
    </section>
  );
}

function Total(props: { name: string; label: string; children: ComponentChildren }) {
  return (
    <div class="total">
      <dt>{props.label}</dt>
      <dd class="num" data-total={props.name}>
        {props.children}
      </dd>
    </div>
  );
}

/** Money with its sign, green or red; the exact figure the API sent in the tooltip. */
function SignedMoney(props: { value: string | null; format?: (v: string | number) => string; suffix?: string; parenthesised?: boolean }) {
  if (props.value === null) return <span class="muted">—</span>;
  const direction = props.value.startsWith('-') ? 'down' : /^[0.]+$/.test(props.value) ? '' : 'up';
  const text = formatSigned(props.value, props.format ?? formatMoney, props.suffix);
  // Parentheses inside the coloured span: the whole "(+105.97%)" in the sign's colour.
  return (
    <span class={`num ${direction}`} title={props.value}>
      {props.parenthesised ? `(${text})` : text}
    </span>
  );
}

/**
 * Allocation by market value: each long position's share of the priced long positions' value, as a bar
 * with its percentage (computed here, for display; shorts and unpriced positions are listed apart).
 */
function Allocation({ positions }: { positions: Position[] }) {
  const held = positions.filter((p) => p.market_value !== null && Number(p.market_value) > 0);
  const total = held.reduce((sum, p) => sum + Number(p.market_value), 0);
  const shares = held.map((p) => ({ symbol: p.symbol, value: p.market_value!, percent: (Number(p.market_value) / total) * 100 })).sort((a, b) => b.percent - a.percent);
  const left = positions.filter((p) => p.side === 'short' || (p.side === 'long' && p.market_value === null)).map((p) => p.symbol);
  return (
    <section class="card allocation" aria-labelledby="allocation-heading">
      <h3 id="allocation-heading">Allocation by market value</h3>
      {shares.length === 0 ? (
        <p class="muted">No priced long position.</p>
      ) : (
        <ul id="allocation" class="bars">
          {shares.map((share, i) => (
            <li key={share.symbol} data-symbol={share.symbol}>
              <span class="bar-label">
                <strong>{share.symbol}</strong>
                <span class="num">{formatPercent(share.percent)}%</span>
              </span>
              <span class="bar-track" aria-hidden="true">
                <span class={`bar-fill tone-${i % 6}`} style={{ width: `${Math.max(share.percent, 0.5)}%` }} />
              </span>
              <small class="muted num">{formatMoney(share.value)}</small>
            </li>
          ))}
        </ul>
      )}
      {left.length > 0 && <p class="muted small">Not in the allocation (short, or without a price): {left.join(', ')}.</p>}
    </section>
  );
}

const DAY_MS = 86_400_000;
/** The API's longest portfolio history: from and to at most this many days apart. */
const HISTORY_MAX_DAYS = 1827;

/**
 * The portfolio's value since its first trade (GET /api/v1/portfolio/{user_id}/history/ from that
 * day): the first trade's date comes from the user's ledger (GET /trades?user_id=…, not counted). A
 * range starting before it would chart zeros, the sessions before anything was held.
 */
function Performance(props: { apiKey: string; userId: string; to: string | null }) {
  const [answer, setAnswer] = useState<Answer<PortfolioHistory> | null>(null);
  const [since, setSince] = useState<{ first: string; from: string } | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    const aborter = new AbortController();
    setError(null);
    setAnswer(null);
    setSince(null);
    (async () => {
      const { trades } = await readLedger({ user_id: props.userId }, aborter.signal);
      if (trades.length === 0) return;
      const first = new Date(Math.min(...trades.map((t) => t.timestamp))).toISOString().slice(0, 10);
      const to = props.to ?? new Date().toISOString().slice(0, 10);
      const earliest = new Date(Date.parse(`${to}T00:00:00Z`) - HISTORY_MAX_DAYS * DAY_MS).toISOString().slice(0, 10);
      const from = first < earliest ? earliest : first > to ? to : first;
      setSince({ first, from });
      const params = new URLSearchParams({ from, to });
      setAnswer(await call<PortfolioHistory>(`/api/v1/portfolio/${encodeURIComponent(props.userId)}/history/?${params}`, { key: props.apiKey, signal: aborter.signal }));
    })().catch((failure) => isAbort(failure) || setError(failure));
    return () => aborter.abort();
  }, [props.apiKey, props.userId, props.to]);

  const points = answer?.body.points ?? [];
  const dates = useMemo(() => points.map((p) => p.date), [points]);
  const series = useMemo(
    () => [
      { label: 'Market value', colorVar: '--series-1', values: points.map((p) => Number(p.market_value)) },
      { label: 'Cost basis', colorVar: '--series-2', values: points.map((p) => Number(p.cost_basis)) },
    ],
    [points],
  );
  return (
    <section class="card performance" aria-labelledby="performance-heading">
      <h3 id="performance-heading">Value since the first trade</h3>
      <ErrorNote error={error} />
      {since && (
        <p id="performance-since" class="muted small">
          First trade {since.first}
          {since.from > since.first && `; charted from ${since.from} (the API's longest range, 5 years)`}.
        </p>
      )}
      {answer &&
        (points.length === 0 ? (
          <p id="performance-empty" class="muted">
            No session has closed since the first trade ({since?.first}): the chart starts with the next close.
          </p>
        ) : (
          <LineChart dates={dates} series={series} label={`Portfolio of user ${props.userId}: market value and cost basis since ${since?.from}`} />
        ))}
      {answer && answer.body.unpriced.length > 0 && (
        <p class="muted small">Left out (no price): {answer.body.unpriced.map((u) => `${u.symbol} (${u.reason})`).join(', ')}.</p>
      )}
    </section>
  );
}
