/**
 * Every relative link and #anchor in the documentation points to a file, and a
 * heading in it, that exists. No Markdown parser is in node_modules, so links
 * are found with a careful regex: inline links `[text](target)` and HTML
 * `src`/`href` attributes, outside fenced blocks and inline code. Anchors are
 * GitHub's heading slugs (lower case, punctuation dropped, spaces to hyphens,
 * `-1`, `-2` … for repeats).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');


function markdownFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(root, dir)).flatMap((name) => {
      const path = join(dir, name);
      return statSync(join(root, path)).isDirectory() ? walk(path) : path.endsWith('.md') ? [path] : [];
    });
  const bench = readdirSync(join(root, 'bench'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join('bench', name));
  return ['README.md', 'CHANGELOG.md', ...walk('docs'), ...bench];
}

/** The text outside fenced code blocks, line by line, with inline code blanked out. */
function proseLines(text: string): string[] {
  let fenced = false;
  return text.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line.replace(/(`+)(?:(?!\1).)+?\1/g, '');
  });
}

export function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

function anchorsOf(file: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of readFileSync(join(root, file), 'utf8').split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const slug = githubSlug(heading[1]!);
      const count = seen.get(slug) ?? 0;
      seen.set(slug, count + 1);
      anchors.add(count === 0 ? slug : `${slug}-${count}`);
    }
    for (const match of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(match[1]!);
  }
  return anchors;
}

function linksOf(file: string): { line: number; target: string }[] {
  const links: { line: number; target: string }[] = [];
  proseLines(readFileSync(join(root, file), 'utf8')).forEach((text, index) => {
    const targets = [
      ...[...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!),
      ...[...text.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!),
    ];
    for (const target of targets) links.push({ line: index + 1, target });
  });
  return links.filter(({ target }) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

function brokenLinks(): string[] {
  const broken: string[] = [];
  for (const file of markdownFiles()) {
    for (const { line, target } of linksOf(file)) {
      const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
      const targetFile = pathPart === '' ? file : relative(root, resolve(root, dirname(file), decodeURI(pathPart)));
      const where = `${file}:${line} → ${target}`;
      if (!existsSync(join(root, targetFile))) {
        broken.push(`${where}: no file ${targetFile}`);
        continue;
      }
      if (anchor !== undefined && targetFile.endsWith('.md') && !anchorsOf(targetFile).has(decodeURIComponent(anchor))) {
        broken.push(`${where}: no heading #${anchor} in ${targetFile}`);
      }
    }
  }
  return broken;
}

describe('the documentation links', () => {
  it('when a heading is slugged, then it is as GitHub slugs it', () => {
    expect(githubSlug('`GET /api/v1/` — where everything is')).toBe('get-apiv1--where-everything-is');
    expect(githubSlug('Upstream quota and fair share')).toBe('upstream-quota-and-fair-share');
    expect(githubSlug('Alpha Vantage–compatible gateway: `GET /query`')).toBe('alpha-vantagecompatible-gateway-get-query');
  });

  it('when a link is relative, then its file and its #anchor exist', () => {
    expect(markdownFiles()).toContain('docs/reference/configuration.md');
    expect(brokenLinks()).toEqual([]);
  });
});
