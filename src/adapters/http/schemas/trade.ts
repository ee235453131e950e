import { Type } from 'typebox';
import { SHARES_MAX, SHARES_MIN, TRADE_SYMBOL_MAX_LENGTH, TRADE_TYPES } from '../../../domain/trade.js';

const SafeCount = (description: string) =>
  Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description });

const tradeFields = {
  type: Type.Enum([...TRADE_TYPES], { description: "'buy' or 'sell'" }),
  user_id: SafeCount('The trading user'),
  symbol: Type.String({ minLength: 1, maxLength: TRADE_SYMBOL_MAX_LENGTH, description: 'Stock symbol, stored as given' }),
  shares: Type.Integer({ minimum: SHARES_MIN, maximum: SHARES_MAX, description: 'Number of shares traded' }),
  price: SafeCount('Price of one share'),
  timestamp: SafeCount('Epoch time of the trade in milliseconds'),
};

export const NewTradeSchema = Type.Object(tradeFields, { additionalProperties: false });

export const TradeSchema = Type.Object(
  { id: Type.Integer({ minimum: 1, description: 'Assigned by the server: 1, 2, 3…' }), ...tradeFields },
  { additionalProperties: false },
);

export const TradeListQuerySchema = Type.Object(
  {
    user_id: Type.Optional(tradeFields.user_id),
    type: Type.Optional(tradeFields.type),
    symbol: Type.Optional(tradeFields.symbol),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Page size; enables paging' })),
    after_id: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Return trades after this id' })),
  },
  { additionalProperties: false },
);
