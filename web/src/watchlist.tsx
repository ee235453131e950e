import { useEffect, useState } from 'preact/hooks';
import { type Answer, type BatchEntry, call, isAbort } from './api';
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
        {answer && <StaleBadge stale={answer.stale} cache={answer.cache} />}
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
                <th scope="col" class="wide-only">Session</th>
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
                    </th>
                    {entry && 'close_value' in entry ? (
                      <>
                        <td class="num" title={`Session ${entry.last_refreshed}`}>{entry.close_value}</td>
                        <td class="num">
                          <Signed value={entry.variation_between_last_two_days} />
                        </td>
                        <td class="wide-only">{entry.last_refreshed}</td>
                      </>
                    ) : (
                      <td colSpan={3} class="muted">
                        {entry && 'detail' in entry ? `${entry.status}: ${entry.detail}` : answer ? '—' : 'Loading…'}
                      </td>
                    )}
                    <td>
                      <button type="button" class="small" aria-label={`Remove ${symbol} from the watchlist`} onClick={() => props.onRemove(symbol)}>
                        Remove
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
