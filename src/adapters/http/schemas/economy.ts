import { Type } from 'typebox';

const count = (description: string) => Type.Union([Type.Integer(), Type.Null()], { description });

export const ProviderSchema = Type.Object({
  name: Type.String({ description: 'alphavantage, twelvedata, or sandbox (the offline synthetic data, when no provider is configured)' }),
  configured: Type.Boolean({ description: 'false: the service knows this vendor but has no key for it; the other fields are then absent' }),
  state: Type.Optional(Type.Union([Type.Literal('ok'), Type.Literal('rate_limited'), Type.Literal('failing')])),
  until: Type.Optional(Type.String({ description: 'rate_limited: when calls may resume (ISO 8601)' })),
  since: Type.Optional(Type.String({ description: 'failing: when the current run of failed calls began (ISO 8601), on this instance' })),
  last_error: Type.Optional(Type.String({ description: "failing: the last failure's kind (unavailable), never the vendor's text" })),
  calls_today: Type.Optional(count('Calls counted against its daily quota since 00:00 UTC, by every instance; null without a daily limit (not counted)')),
  daily_limit: Type.Optional(count('null when none')),
  calls_this_minute: Type.Optional(count('Calls counted this calendar minute, by every instance; null without a per-minute limit (not counted)')),
  minute_limit: Type.Optional(count('null when none')),
});

export const ProvidersSchema = Type.Object({
  providers: Type.Array(ProviderSchema, { description: 'Configured ones in failover order, then the ones without a key' }),
  requests_served_today: Type.Integer({ description: 'Market-data requests answered since 00:00 UTC by every instance (a batch counts each distinct symbol)' }),
  upstream_calls_today: Type.Integer({ description: "The sum of the providers' calls_today (a provider without a daily limit is not counted)" }),
  saved_ratio: Type.Union([Type.Number(), Type.Null()], {
    description: '1 − upstream_calls_today ÷ requests_served_today, 4 decimals, never below 0; null before any request is served',
  }),
});

export const AccountShareSchema = Type.Record(
  Type.String(),
  Type.Object({
    lookups_today: Type.Integer({ description: 'Symbols the store did not hold that this account had fetched through the provider since 00:00 UTC' }),
    fair_share_left: Type.Integer({ description: 'How many more it may fetch today if nobody else calls the provider meanwhile' }),
  }),
  { description: 'Per provider with a daily limit: this account\'s upstream lookups today and its remaining fair share' },
);
