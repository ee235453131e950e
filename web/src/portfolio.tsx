import { useEffect, useMemo, useState } from 'preact/hooks';
import { type Answer, call, isAbort, type Portfolio as PortfolioBody, type PortfolioHistory } from './api';
import { LineChart, RangePicker, type Range, rangeStart } from './chart';
import { ErrorNote, Field, fieldError, formError, Signed, StaleBadge } from './ui';

/**
 * One user's positions, totals and value over time (GET /api/v1/portfolio/{user_id}/ and its
 * history/). Money is shown exactly as the service computed it (decimal strings), never summed here.
 */
export function Portfolio({ apiKey }: { apiKey: string }) {
  const [userId, setUserId] = useState('');
  const [asOf, setAsOf] = useState('');
  const [asked, setAsked] = useState<{ userId: string; asOf: string } | null>(null);
  const [answer, setAnswer] = useState<Answer<PortfolioBody> | null>(null);
  const [error, setError] = useState<unknown>(null);

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
          if (userId.trim() !== '') setAsked({ userId: userId.trim(), asOf });
        }}
      >
        <Field id="portfolio-user" label="User id" error={fieldError(error, 'user_id')}>
          <input id="portfolio-user" inputMode="numeric" value={userId} onInput={(e) => setUserId((e.currentTarget as HTMLInputElement).value)} />
        </Field>
        <Field id="portfolio-as-of" label="As of (optional)" error={fieldError(error, 'as_of')}>
          <input id="portfolio-as-of" type="date" value={asOf} onInput={(e) => setAsOf((e.currentTarget as HTMLInputElement).value)} />
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
            User {body.user_id}, valued {body.as_of ? `as of ${body.as_of}` : 'at the latest closes'}. <StaleBadge stale={answer.stale} cache={answer.cache} />
          </p>
          <dl class="totals" id="portfolio-totals">
            <div>
              <dt>Market value</dt>
              <dd class="num" data-total="market_value">{body.totals.market_value}</dd>
            </div>
            <div>
              <dt>Cost basis</dt>
              <dd class="num" data-total="cost_basis">{body.totals.cost_basis}</dd>
            </div>
            <div>
              <dt>Unrealised P/L</dt>
              <dd data-total="unrealised_pl">
                <Signed value={body.totals.unrealised_pl} />
                {body.totals.unrealised_pl_percent !== null && (
                  <small>
                    {' '}
                    (<Signed value={body.totals.unrealised_pl_percent} suffix="%" />)
                  </small>
                )}
              </dd>
            </div>
            <div>
              <dt>Realised P/L</dt>
              <dd data-total="realised_pl">
                <Signed value={body.totals.realised_pl} />
              </dd>
            </div>
            <div>
              <dt>Day change</dt>
              <dd data-total="day_change">
                <Signed value={body.totals.day_change} />
              </dd>
            </div>
            <div>
              <dt>Positions</dt>
              <dd class="num" data-total="positions">
                {body.totals.positions}
                {body.totals.unpriced > 0 && <small> ({body.totals.unpriced} without a price)</small>}
              </dd>
            </div>
          </dl>
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
                </tr>
              </thead>
              <tbody>
                {body.positions.length === 0 && (
                  <tr>
                    <td colSpan={8} class="muted">
                      No positions.
                    </td>
                  </tr>
                )}
                {body.positions.map((p) => (
                  <tr key={p.symbol} data-symbol={p.symbol}>
                    <th scope="row">
                      {p.symbol} {p.side !== 'long' && <small class="badge">{p.side}</small>}
                    </th>
                    <td class="num" data-label="Shares">{p.shares}</td>
                    <td class="num" data-label="Avg cost">{p.average_cost ?? '—'}</td>
                    <td class="num" data-label="Price">
                      {p.price ?? <span class="reason">no price{p.reason ? `: ${p.reason}` : ''}</span>}
                      {p.cache === 'STALE' && <span class="badge stale">STALE</span>}
                      {p.price_date && <small class="muted block">{p.price_date}</small>}
                    </td>
                    <td class="num" data-label="Value" data-field="market_value">{p.market_value ?? '—'}</td>
                    <td class="num" data-label="Unrealised P/L" data-field="unrealised_pl">
                      <Signed value={p.unrealised_pl} />
                      {p.unrealised_pl_percent !== null && (
                        <small class="block">
                          <Signed value={p.unrealised_pl_percent} suffix="%" />
                        </small>
                      )}
                    </td>
                    <td class="num" data-label="Day">
                      <Signed value={p.day_change} />
                    </td>
                    <td class="num" data-label="Realised P/L">
                      <Signed value={p.realised_pl} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <PortfolioChart apiKey={apiKey} userId={String(body.user_id)} to={body.as_of} />
        </>
      )}
    </section>
  );
}

/** The service keeps a history range to 5 years: no "All" here. */
const PORTFOLIO_RANGES = ['1M', '3M', '1Y', '5Y'] as const;

function PortfolioChart(props: { apiKey: string; userId: string; to: string | null }) {
  const [range, setRange] = useState<Range>('3M');
  const [answer, setAnswer] = useState<Answer<PortfolioHistory> | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    const aborter = new AbortController();
    setError(null);
    const end = props.to ? new Date(`${props.to}T00:00:00Z`) : new Date();
    const params = new URLSearchParams({ from: rangeStart(range, end), to: end.toISOString().slice(0, 10) });
    call<PortfolioHistory>(`/api/v1/portfolio/${encodeURIComponent(props.userId)}/history/?${params}`, { key: props.apiKey, signal: aborter.signal })
      .then(setAnswer)
      .catch((failure) => isAbort(failure) || setError(failure));
    return () => aborter.abort();
  }, [props.apiKey, props.userId, props.to, range]);

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
    <div class="history">
      <div class="toolbar">
        <h3>Value over time</h3>
        <RangePicker label="Portfolio range" value={range} onChange={setRange} ranges={PORTFOLIO_RANGES} />
      </div>
      <ErrorNote error={error} />
      {answer && <LineChart dates={dates} series={series} label={`Portfolio of user ${props.userId}: market value and cost basis, ${range}`} />}
      {answer && answer.body.unpriced.length > 0 && (
        <p class="muted">Left out (no price): {answer.body.unpriced.map((u) => `${u.symbol} (${u.reason})`).join(', ')}.</p>
      )}
    </div>
  );
}
