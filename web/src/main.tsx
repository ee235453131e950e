import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type Allowance, onAllowance, onKeyRefused, resetAllowance } from './api';
import { KeyPanel, NewKeyNote } from './key-panel';
import { Ledger } from './ledger';
import { Market } from './market';
import { Portfolio } from './portfolio';
import { forgetKey, loadKey, loadWatchlist, saveKey, saveWatchlist } from './storage';
import './style.css';
import { formatWait } from './ui';
import { Usage } from './usage';
import { Watchlist } from './watchlist';

/** The views, as hash routes (`/#/ledger`): the service serves only `/`, no catch-all. */
const VIEWS = [
  { id: 'market', label: 'Market', needsKey: true },
  { id: 'ledger', label: 'Ledger', needsKey: false },
  { id: 'portfolio', label: 'Portfolio', needsKey: true },
  { id: 'usage', label: 'Usage', needsKey: true },
  { id: 'key', label: 'Key', needsKey: false },
] as const;
type View = (typeof VIEWS)[number]['id'];

function viewOf(hash: string): View | null {
  const id = hash.replace(/^#\/?/, '').split('/')[0];
  return VIEWS.find((view) => view.id === id)?.id ?? null;
}

/** The user a portfolio route names (`#/portfolio/7`), so a portfolio can be bookmarked; null when none. */
function portfolioUserOf(hash: string): string | null {
  const [id, user] = hash.replace(/^#\/?/, '').split('/');
  if (id !== 'portfolio' || !user) return null;
  try {
    return decodeURIComponent(user);
  } catch {
    return null; // a malformed escape: the view opens empty
  }
}

const portfolioRoute = (user: string) => `#/portfolio/${encodeURIComponent(user)}`;

function App() {
  const [stored, setStored] = useState(loadKey);
  const [hash, setHash] = useState(location.hash);
  /** The last portfolio shown: the Portfolio tab goes back to it rather than to an empty form. */
  const [portfolioUser, setPortfolioUser] = useState(() => portfolioUserOf(location.hash));
  const [symbol, setSymbol] = useState<string | null>(null);
  const [watchlist, setWatchlist] = useState(loadWatchlist);
  const [allowance, setAllowance] = useState<Allowance | null>(null);
  /** A key just registered: shown once, above the view, until put away or replaced. */
  const [newKey, setNewKey] = useState<string | null>(null);

  useEffect(() => {
    const follow = () => {
      setHash(location.hash);
      const user = portfolioUserOf(location.hash);
      if (user !== null) setPortfolioUser(user);
    };
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);
  useEffect(() => onAllowance(setAllowance), []);
  /** The key the service last answered 401 to: while it is the one in use, the page says so on every view. */
  const [refused, setRefused] = useState<string | null>(null);
  useEffect(() => onKeyRefused(setRefused), []);

  const apiKey = stored?.key ?? null;
  const view: View = viewOf(hash) ?? (apiKey ? 'market' : 'key');
  const needsKey = VIEWS.find((v) => v.id === view)!.needsKey && !apiKey;

  function takeKey(key: string, remember: boolean, registered: boolean) {
    // Registered: on to the market, the new key shown once above it. A pasted key goes on to what the person was doing.
    if (registered) {
      setNewKey(key);
      location.hash = '#/market';
    } else if (key !== newKey) setNewKey(null);
    if (key !== apiKey) resetAllowance();
    saveKey(key, remember);
    setStored({ key, remembered: remember });
  }
  function forget() {
    forgetKey();
    setStored(null);
    setNewKey(null);
    resetAllowance();
  }
  function updateWatchlist(symbols: string[]) {
    saveWatchlist(symbols);
    setWatchlist(symbols);
  }
  function show(s: string) {
    setSymbol(s);
    location.hash = '#/market';
  }

  return (
    <>
      {/* Views are hash routes, so the skip link moves focus itself instead of changing the hash. */}
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <div class="brand-row">
          <p class="brand">
            <span aria-hidden="true" class="logo" /> <span>Stock Market Service</span>
          </p>
          {allowance && (
            <p class="allowance-left" id="allowance-left" title={`The window frees up in ${formatWait(allowance.resetsIn)}`}>
              <strong class="num">{allowance.remaining.toLocaleString('en-US')}</strong> requests left
            </p>
          )}
        </div>
        {/* One row of tabs at every width: on a phone it scrolls sideways rather than wrapping into rows. */}
        <nav aria-label="Views" class="tabs">
          {VIEWS.map((v) => (
            <a href={v.id === 'portfolio' && portfolioUser ? portfolioRoute(portfolioUser) : `#/${v.id}`} aria-current={view === v.id ? 'page' : undefined}>
              {v.label}
            </a>
          ))}
          <a href="/docs" class="external">
            API docs
          </a>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {newKey && newKey === apiKey && <NewKeyNote apiKey={newKey} onDone={() => setNewKey(null)} />}
        {apiKey && refused === apiKey && (
          <div class="note error refused">
            <p>
              The service refused the key in use (401): it was revoked, or was never valid here. Forget it, then register or paste
              another.
            </p>
            <button
              type="button"
              class="danger"
              onClick={() => {
                forget();
                location.hash = '#/key';
              }}
            >
              Forget this key
            </button>
          </div>
        )}
        {needsKey && (
          <p class="note">
            This view calls the API, which needs a key: get one below (registration is free), or paste yours.
          </p>
        )}
        {(view === 'key' || needsKey) && <KeyPanel currentKey={apiKey} remembered={stored?.remembered ?? false} onKey={takeKey} onForget={forget} />}
        {view === 'market' && apiKey && (
          <div class="market-layout">
            <Market apiKey={apiKey} symbol={symbol} onSymbol={setSymbol} watchlist={watchlist} onWatch={(s) => updateWatchlist([...watchlist.filter((w) => w !== s), s])} />
            <Watchlist apiKey={apiKey} symbols={watchlist} onShow={show} onRemove={(s) => updateWatchlist(watchlist.filter((w) => w !== s))} />
          </div>
        )}
        {view === 'ledger' && <Ledger />}
        {view === 'portfolio' && apiKey && <Portfolio apiKey={apiKey} userId={portfolioUserOf(hash) ?? portfolioUser} onUser={(user) => (location.hash = portfolioRoute(user))} />}
        {view === 'usage' && apiKey && <Usage apiKey={apiKey} />}
      </main>
      <footer class="muted">
        Your key stays in this browser ({stored?.remembered ? 'localStorage' : 'sessionStorage'}); it is sent only to this service, in a header.
        <a class="footer-links" href="/docs">
          API reference
        </a>
      </footer>
    </>
  );
}

render(<App />, document.getElementById('app')!);
