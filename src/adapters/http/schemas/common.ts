import { Type } from 'typebox';

export const ErrorSchema = Type.Object(
  {
    detail: Type.String({ description: 'What is wrong, in words' }),
    field: Type.Optional(Type.String({ description: 'The input field at fault, for validation errors' })),
  },
  { $id: 'Error' },
);
