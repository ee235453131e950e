import { useEffect, useState } from 'preact/hooks';
import { call, isAbort, type Me, type Providers } from './api';
import { ErrorNote, formatWait } from './ui';

/** The account's allowance (GET /api/v1/me/) and the upstream economy (GET /api/v1/providers/): two requests. */
export function Usage({ apiKey }: { apiKey: string }) {
  const [me, setMe] = useState<Me | null>(null);
  const [providers, setProviders] = useState<Providers | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const aborter = new AbortController();
    setError(null);
    Promise.all([
      call<Me>('/api/v1/me/', { key: apiKey, signal: aborter.signal }).then((a) => setMe(a.body)),
      call<Providers>('/api/v1/providers/', { key: apiKey, signal: aborter.signal }).then((a) => setProviders(a.body)),
    ]).catch((failure) => isAbort(failure) || setError(failure));
    return () => aborter.abort();
  }, [apiKey, reload]);

  const usage = me?.usage;
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
            <div>
              <dt>Used</dt>
              <dd class="num" data-usage="used">{usage.used}</dd>
            </div>
            <div>
              <dt>Left</dt>
              <dd class="num" data-usage="remaining">{usage.remaining}</dd>
            </div>
            <div>
              <dt>Allowance</dt>
              <dd>{usage.rate}</dd>
            </div>
            <div>
              <dt>Window frees up in</dt>
              <dd>{formatWait(usage.resets_in_seconds)}</dd>
            </div>
          </dl>
          <meter min={0} max={usage.used + usage.remaining} value={usage.used} aria-label="Share of the allowance used" />
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
    </section>
  );
}
