/**
 * The commands shown in the README and docs/, as argument lists: every line of a `sh` or `bash`
 * code block that runs `concept-lens` (or `./bin/concept-lens`) or an npm script, with
 * backslash continuations joined and trailing comments dropped. The docs test validates each one
 * with the CLI's own parser, so a documented flag or command that stops existing fails the test.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface DocCommand {
  file: string;
  line: number;
  text: string;
  kind: 'cli' | 'npm';
  args: string[];
}

export function docFiles(repo: string): string[] {
  const docs = readdirSync(path.join(repo, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => path.join('docs', f));
  return ['README.md', ...docs.sort()];
}

export function docCommands(repo: string, file: string): DocCommand[] {
  const lines = readFileSync(path.join(repo, file), 'utf8').split('\n');
  const out: DocCommand[] = [];
  let inShell = false;
  let inBlock = false;
  for (let i = 0; i < lines.length; i++) {
    const fence = /^\s*```(\w*)/.exec(lines[i]);
    if (fence) {
      if (inBlock) inBlock = inShell = false;
      else {
        inBlock = true;
        inShell = fence[1] === 'sh' || fence[1] === 'bash';
      }
      continue;
    }
    if (!inShell) continue;
    const start = i;
    let text = lines[i];
    while (/\\\s*$/.test(text) && i + 1 < lines.length)
      text = text.replace(/\\\s*$/, ' ') + lines[++i];
    const words = shellWords(text);
    if (words.length === 0) continue;
    if (/(^|\/)concept-lens$/.test(words[0]))
      out.push({ file, line: start + 1, text: text.trim(), kind: 'cli', args: words.slice(1) });
    else if (words[0] === 'npm' && (words[1] === 'run' || words[1] === 'test'))
      out.push({ file, line: start + 1, text: text.trim(), kind: 'npm', args: words.slice(1) });
  }
  return out;
}

/** Words of a shell line: quotes grouped, a `#` comment and anything after `&&`, `|`, `;` dropped. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote) {
      if (ch === quote) quote = undefined;
      else word = (word ?? '') + ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      word = word ?? '';
    } else if (/\s/.test(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (ch === '#' && word === undefined) break;
    else if ((ch === '&' && line[i + 1] === '&') || ch === '|' || ch === ';') break;
    else word = (word ?? '') + ch;
  }
  if (word !== undefined) words.push(word);
  return words;
}
