/** The symbol-search query: what a client may ask, and the one form it is asked upstream and cached in. */
import { ValidationError } from './errors.js';
import { characterCount } from './text.js';

export const SEARCH_QUERY_MAX_CHARACTERS = 64;

// Letters and digits of any script, spaces and the punctuation of company names ("AT&T", "Berkshire Hathaway Inc. Class B").
const SEARCH_QUERY = /^[\p{L}\p{N}\p{M} .,&'()-]+$/u;

/**
 * The search query as asked upstream and as cached: NFKC-folded (full-width
 * "ＩＢＭ" is "IBM"), lower-cased, inner spaces collapsed — so "Apple",
 * " apple " and "APPLE" share one upstream call a day.
 */
export function normalizeSearchQuery(raw: string): string {
  const query = raw.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
  if (query === '') throw new ValidationError('q', 'give a company name or ticker to search for');
  if (characterCount(query) > SEARCH_QUERY_MAX_CHARACTERS) {
    throw new ValidationError('q', `must be at most ${SEARCH_QUERY_MAX_CHARACTERS} characters`);
  }
  if (!SEARCH_QUERY.test(query)) throw new ValidationError('q', "may hold letters, digits, spaces and . , & ' ( ) - only");
  return query;
}
