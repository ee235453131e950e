import { useEffect, useState } from 'preact/hooks';
import { type Allowance, type CallRecord, call, isAbort, type Me, onAllowance, onCalls, type Providers } from './api';
import { ErrorNote, formatWait } from './ui';

/** The account's allowance (GET /api/v1/me/) and the upstream economy (GET /api/v1/providers/): two requests. */
export function Usage({ apiKey }: { apiKey: string }) {
  const [me, setMe] = useState<Me | null>(null);
  const [providers, setProviders] = useState<Providers | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [reload, setReload] = useState(0);
  const [allowance, setAllowance] = useState<Allowance | null>(null);
  const [calls, setCalls] = useState<readonly CallRecord[]>([]);
  useEffect(() => onAllowance(setAllowance), []);
  useEffect(() => onCalls(setCalls), []);

  useEffect(() => {
    const aborter = new AbortController();
    setError(null);
    (async () => {
      setProviders((await call<Providers>('/api/v1/providers/', { key: apiKey, signal: aborter.signal })).body);
      setMe((await call<Me>('/api/v1/me/', { key: apiKey, signal: aborter.signal })).body);
    })().catch((failure) => isAbort(failure) || setError(failure));
    return () => aborter.abort();
  }, [apiKey, reload]);

  const usage = me?.usage;
  // One number on the whole page: the latest RateLimit reading (the header's), else /me's own.
  const left = allowance?.remaining ?? usage?.remaining ?? 0;
  const limit = allowance?.limit ?? (usage ? usage.used + usage.remaining : 0);
  return (
    <section class="panel" aria-labelledby="usage-heading">
      <div class="panel-head">
        <h2 id="usage-heading">Usage</h2>
        <button type="button" onClick={() => setReload(reload + 1)} title="Costs 2 requests">
          Refresh
        </button>
      </div>
      <ErrorNote error={error} />
      {me && (
        <p>
          {me.name} {me.last_name} ({me.email}), key <code>{me.key_prefix}…</code>, since {me.created_at.slice(0, 10)}.
        </p>
      )}
      {usage && (
        <div class="allowance">
          <dl class="totals" id="usage">
            <div class="total">
              <dt>Requests left</dt>
              <dd class="num" data-usage="remaining">
                {left}
              </dd>
            </div>
            <div class="total">
              <dt>Used</dt>
              <dd class="num" data-usage="used">
                {limit - left}
              </dd>
            </div>
            <div class="total">
              <dt>Allowance</dt>
              <dd>{usage.rate}</dd>
            </div>
            <div class="total">
              <dt>Window frees up in</dt>
              <dd>{formatWait(allowance?.resetsIn ?? usage.resets_in_seconds)}</dd>
            </div>
          </dl>
          <meter min={0} max={limit} value={limit - left} aria-label="Share of the allowance used" />
          <p class="muted small">
            The count is the one in the header: the service's RateLimit header on its latest answer to this page (each counted request, this view's own
            two included).
          </p>
        </div>
      )}
      {me?.upstream_lookups && Object.keys(me.upstream_lookups).length > 0 && (
        <p class="muted">
          Lookups of symbols not yet stored, today:{' '}
          {Object.entries(me.upstream_lookups)
            .map(([name, l]) => `${name} ${l.lookups_today} (${l.fair_share_left} more allowed)`)
            .join('; ')}
          .
        </p>
      )}
      {providers && (
        <>
          <h3>Providers</h3>
          <p>
            Served today: <span class="num">{providers.requests_served_today}</span> market-data requests for{' '}
            <span class="num">{providers.upstream_calls_today}</span> upstream calls
            {providers.saved_ratio !== null && <> — {(providers.saved_ratio * 100).toFixed(1)}% answered from the price store</>}.
          </p>
          <div class="table-wrap">
            <table id="providers">
              <thead>
                <tr>
                  <th scope="col">Provider</th>
                  <th scope="col">State</th>
                  <th scope="col" class="num">Calls today</th>
                  <th scope="col" class="num">This minute</th>
                </tr>
              </thead>
              <tbody>
                {providers.providers.map((p) => (
                  <tr key={p.name}>
                    <th scope="row">{p.name}</th>
                    <td>
                      {!p.configured ? (
                        <span class="muted">not configured</span>
                      ) : (
                        <span class={`state ${p.state ?? ''}`}>
                          {p.state}
                          {p.until && ` until ${p.until}`}
                          {p.since && ` since ${p.since}`}
                          {p.last_error && ` (${p.last_error})`}
                        </span>
                      )}
                    </td>
                    <td class="num">{p.configured ? `${p.calls_today ?? '—'}${p.daily_limit ? ` / ${p.daily_limit}` : ''}` : ''}</td>
                    <td class="num">{p.configured ? `${p.calls_this_minute ?? '—'}${p.minute_limit ? ` / ${p.minute_limit}` : ''}` : ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      <h3>This page's requests</h3>
      <p class="muted small">
        What each call cost and where its answer came from (X-Cache: HIT from the service's store, MISS asked upstream, STALE older data after
        upstream failed). A quote, a history, a search and /me cost one request each; the watchlist one per symbol; a portfolio one per symbol
        priced. A company name on a quote costs one search the first time this browser sees the symbol, then nothing. The ledger (/trades) is not
        counted.
      </p>
      {calls.length === 0 ? (
        <p class="muted">None yet.</p>
      ) : (
        <div class="table-wrap">
          <table id="calls">
            <thead>
              <tr>
                <th scope="col">Time (UTC)</th>
                <th scope="col">Request</th>
                <th scope="col" class="num">Status</th>
                <th scope="col">Cache</th>
                <th scope="col" class="num">Left after</th>
              </tr>
            </thead>
            <tbody>
              {calls.map((c, i) => (
                <tr key={i}>
                  <td>{c.at}</td>
                  <td class="path">
                    <code>
                      {c.method} {c.path}
                    </code>
                  </td>
                  <td class="num">{c.status}</td>
                  <td>{c.cache ?? '—'}</td>
                  <td class="num">{c.remaining ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
