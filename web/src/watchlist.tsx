import { useEffect, useState } from 'preact/hooks';
import { type Answer, type BatchEntry, call, isAbort } from './api';
import { formatPrice } from './format';
import { knownName } from './names';
import { ErrorNote, Signed, StaleBadge } from './ui';

/** The watchlist's quotes in one batch request (it costs one request per symbol). */
export function Watchlist(props: { apiKey: string; symbols: string[]; onRemove: (symbol: string) => void; onShow: (symbol: string) => void }) {
  const [answer, setAnswer] = useState<Answer<Record<string, BatchEntry>> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [reload, setReload] = useState(0);
  const list = props.symbols.join(',');

  useEffect(() => {
    if (!list) return setAnswer(null);
    const aborter = new AbortController();
    setError(null);
    call<Record<string, BatchEntry>>(`/api/v1/symbols/?symbols=${encodeURIComponent(list)}`, { key: props.apiKey, signal: aborter.signal })
      .then(setAnswer)
      .catch((failure) => isAbort(failure) || setError(failure));
    return () => aborter.abort();
  }, [props.apiKey, list, reload]);

  return (
    <section class="panel" aria-labelledby="watchlist-heading">
      <div class="panel-head">
        <h2 id="watchlist-heading">Watchlist</h2>
        {answer && <StaleBadge stale={answer.stale} />}
        {props.symbols.length > 0 && (
          <button type="button" onClick={() => setReload(reload + 1)} title={`Costs ${props.symbols.length} requests`}>
            Refresh
          </button>
        )}
      </div>
      {props.symbols.length === 0 && <p class="muted">Empty. Look a symbol up and add it; the list is kept in this browser.</p>}
      <ErrorNote error={error} />
      {props.symbols.length > 0 && (
        <div class="table-wrap">
          <table id="watchlist">
            <thead>
              <tr>
                <th scope="col">Symbol</th>
                <th scope="col" class="num">Close</th>
                <th scope="col" class="num">Change</th>
                <th scope="col"><span class="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {props.symbols.map((symbol) => {
                const entry = answer?.body[symbol];
                return (
                  <tr key={symbol} data-symbol={symbol}>
                    <th scope="row">
                      <button type="button" class="link" onClick={() => props.onShow(symbol)}>
                        {symbol}
                      </button>
                      {knownName(symbol)?.name && <small class="muted block watch-name">{knownName(symbol)!.name}</small>}
                    </th>
                    {entry && 'close_value' in entry ? (
                      <>
                        <td class="num" title={`Close of ${entry.last_refreshed}: ${entry.close_value}`}>{formatPrice(entry.close_value)}</td>
                        <td class="num">
                          <Signed value={entry.variation_between_last_two_days} />
                        </td>
                      </>
                    ) : (
                      <td colSpan={2} class="muted">
                        {entry && 'detail' in entry ? `${entry.status}: ${entry.detail}` : answer ? '—' : 'Loading…'}
                      </td>
                    )}
                    <td>
                      <button type="button" class="small icon" aria-label={`Remove ${symbol} from the watchlist`} title="Remove" onClick={() => props.onRemove(symbol)}>
                        ×
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
