/**
 * The shell examples of a Markdown document, and the answers it shows for them, so a test can run
 * them as a reader would and compare. Conventions (docs/contributing.md):
 * - a ```sh block is run; ```sh setup marks commands the test stands for itself (`npm install`, `npm start`, `npm test`);
 * - a ```json or ```text block right after it is what it prints, with placeholders for what changes
 *   from run to run (see PLACEHOLDERS); an sh block with no such block is run, its output unchecked.
 * Written by hand: the fences are all we read, and a Markdown parser would add a dependency for a regex's work.
 */
export interface DocExample {
  /** Where it is, for a failure message: `README.md:120`. */
  where: string;
  commands: string;
  /** What the document shows it prints, or undefined when it shows nothing. */
  shown?: string;
}

const FENCE = /^```([^\n]*)\n([\s\S]*?)^```[ \t]*$/gm;

export function shellExamples(markdown: string, file: string): DocExample[] {
  const fences = [...markdown.matchAll(FENCE)].map((match) => ({
    info: match[1]!.trim(),
    body: match[2]!,
    start: match.index!,
    end: match.index! + match[0].length,
  }));
  const examples: DocExample[] = [];
  fences.forEach((fence, index) => {
    const [language, ...flags] = fence.info.split(/\s+/);
    if (language !== 'sh' || flags.includes('setup')) return;
    const next = fences[index + 1];
    const follows = next !== undefined && markdown.slice(fence.end, next.start).trim() === '' && ['json', 'text'].includes(next.info.split(/\s+/)[0]!);
    examples.push({
      where: `${file}:${markdown.slice(0, fence.start).split('\n').length}`,
      commands: fence.body,
      shown: follows ? next.body : undefined,
    });
  });
  return examples;
}

/** What the docs write for a value that differs on every run, and what it stands for. */
export const PLACEHOLDERS: Record<string, string> = {
  '<key>': '[0-9a-f]{40}',
  '<date>': '\\d{4}-\\d{2}-\\d{2}',
  '<timestamp>': '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:\\.\\d+)?Z',
  '<id>': '\\d+',
  '<integer>': '-?\\d+',
  '<decimal>': '-?\\d+(?:\\.\\d+)?',
  '<uuid>': '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}',
  '…': '[\\s\\S]*?',
};

/**
 * Whitespace-insensitive around JSON's punctuation, so a document may show a compact answer
 * pretty-printed: runs of whitespace become one space, and none is kept beside { } [ ] , :.
 */
function normalised(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/ ?([{}[\],:]) ?/g, '$1').trim();
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether `printed` is what `shown` shows, placeholders standing for their patterns. */
export function matchesShown(printed: string, shown: string): boolean {
  const tokens = Object.keys(PLACEHOLDERS).map(escapeRegExp).join('|');
  const pattern = normalised(shown)
    .split(new RegExp(`(${tokens})`))
    .map((part) => PLACEHOLDERS[part] ?? escapeRegExp(part))
    .join('');
  return new RegExp(`^${pattern}$`).test(normalised(printed));
}
