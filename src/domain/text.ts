/**
 * Length in characters (Unicode code points), as PostgreSQL's varchar(n) and
 * JSON Schema's maxLength count them — not UTF-16 code units, which count an
 * emoji or a mathematical letter twice.
 */
export function characterCount(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}
