import { describe, expect, it } from 'vitest';
import { matchesShown, shellExamples } from '../support/doc-blocks.js';

describe('reading shell examples from Markdown', () => {
  const markdown = [
    'Intro',
    '```sh setup',
    'npm start',
    '```',
    '```sh',
    'curl -s http://localhost:8000/health',
    '```',
    '```json',
    '{"status": "ok"}',
    '```',
    'Then:',
    '```sh',
    'echo hi',
    '```',
    'and prose before a block is not its output:',
    '```text',
    'hi',
    '```',
  ].join('\n');

  it('runs sh blocks but not setup ones, and takes the block right after as the output shown', () => {
    expect(shellExamples(markdown, 'X.md')).toEqual([
      { where: 'X.md:5', commands: 'curl -s http://localhost:8000/health\n', shown: '{"status": "ok"}\n' },
      { where: 'X.md:12', commands: 'echo hi\n', shown: undefined },
    ]);
  });
});

describe('comparing what was printed with what a document shows', () => {
  it('ignores layout around JSON punctuation but not inside values', () => {
    expect(matchesShown('{"a":1,"b":[2,3]}', '{\n  "a": 1,\n  "b": [2, 3]\n}')).toBe(true);
    expect(matchesShown('{"name":"Ada Lovelace"}', '{"name": "AdaLovelace"}')).toBe(false);
  });

  it('lets placeholders stand for what changes, and nothing else', () => {
    const key = 'a'.repeat(40);
    expect(matchesShown(`{"key":"${key}","date":"2026-12-04","id":17}`, '{"key": "<key>", "date": "<date>", "id": <id>}')).toBe(true);
    expect(matchesShown('{"key":"not-a-key"}', '{"key": "<key>"}')).toBe(false);
    expect(matchesShown('{"close":"130.7900","volume":4236283}', '{"close": "130.7900", …}')).toBe(true);
    expect(matchesShown('{"close":"130.7800"}', '{"close": "130.7900"}')).toBe(false);
  });

  it('needs the whole output, not a part of it', () => {
    expect(matchesShown('{"a":1} and more', '{"a": 1}')).toBe(false);
  });
});
