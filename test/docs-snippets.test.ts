import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Every ```ts block of README.md and docs/*.md must compile as a user would write it: each block is
 * a module of its own, importing the package by its published names, typechecked under `strict`.
 * A block may state what it assumes with `declare const …`. Other languages use ```sh, ```js or ```text.
 */

const root = fileURLToPath(new URL('..', import.meta.url));

/** The published entry points (tsup.config.ts), mapped to their sources. */
const PACKAGE_PATHS: Record<string, string[]> = {
  'fga-guard': ['./src/index.ts'],
  'fga-guard/express': ['./adapters/express.ts'],
  'fga-guard/koa': ['./adapters/koa.ts'],
  'fga-guard/fastify': ['./adapters/fastify.ts'],
  'fga-guard/hono': ['./adapters/hono.ts'],
  'fga-guard/redis': ['./redis/index.ts'],
  'fga-guard/testing': ['./testing/index.ts'],
};

interface Snippet {
  /** The Markdown file, relative to the repository. */
  source: string;
  /** Line of the snippet's first code line in that file (1-based). */
  line: number;
  code: string;
}

/** The ```ts (or ```typescript) blocks of a Markdown text, with the line each starts on. */
function extractSnippets(source: string, markdown: string): Snippet[] {
  const snippets: Snippet[] = [];
  const lines = markdown.split('\n');
  let open: { fence: string; typescript: boolean; line: number; body: string[] } | undefined;
  lines.forEach((text, index) => {
    if (open === undefined) {
      const start = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/.exec(text);
      if (start) open = { fence: start[2]!, typescript: ['ts', 'typescript'].includes(start[3]!), line: index + 2, body: [] };
      return;
    }
    if (text.trim().startsWith(open.fence) && text.trim().replaceAll(open.fence[0]!, '') === '') {
      if (open.typescript) snippets.push({ source, line: open.line, code: open.body.join('\n') });
      open = undefined;
      return;
    }
    open.body.push(text);
  });
  if (open !== undefined) throw new Error(`${source}:${open.line - 1}: code block is never closed`);
  return snippets;
}

/** Typechecks the snippets in one Program; returns one message per error, as `README.md:42:7 …`. */
function typecheckSnippets(snippets: Snippet[], directory: string): string[] {
  const base = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!base) throw new Error('cannot read tsconfig.json');
  const files = snippets.map((snippet, index) => {
    const file = join(directory, `${snippet.source.replace(/[^\w]+/g, '_')}_${snippet.line}_${index}.ts`);
    // `export {}` keeps a block without imports a module of its own.
    writeFileSync(file, `${snippet.code}\nexport {};\n`);
    return { file, snippet };
  });
  const options: ts.CompilerOptions = { ...base.options, strict: true, noEmit: true, baseUrl: root, paths: PACKAGE_PATHS };
  const program = ts.createProgram({ rootNames: files.map(({ file }) => file), options });
  const bySnippetFile = new Map(files.map(({ file, snippet }) => [resolve(file), snippet]));
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    if (!diagnostic.file || diagnostic.start === undefined) return message;
    const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    const snippet = bySnippetFile.get(resolve(diagnostic.file.fileName));
    const where = snippet
      ? `${snippet.source}:${snippet.line + line}:${character + 1}`
      : `${relative(root, diagnostic.file.fileName)}:${line + 1}:${character + 1}`;
    return `${where} ${message}`;
  });
}

const documents = ['README.md', ...readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];
const snippets = documents.flatMap((document) => extractSnippets(document, readFileSync(join(root, document), 'utf8')));

/** Checked with the others, in the same Program: the check must report it, where it is. */
const broken = extractSnippets(
  'docs/broken.md',
  ['# t', '', '```ts', "import { createAuthorizer } from 'fga-guard';", 'const n: number = createAuthorizer;', '```', ''].join('\n'),
);

// Inside the repository, so the snippets resolve the frameworks and @workos-inc/node as an app would.
const directory = mkdtempSync(join(root, '.docs-snippets-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('TypeScript in the docs', () => {
  let errors: string[] = [];
  beforeAll(() => {
    errors = typecheckSnippets([...snippets, ...broken], directory);
  }, 120_000);

  it('finds the snippets', () => {
    expect(snippets.filter((snippet) => snippet.source === 'README.md').length).toBeGreaterThanOrEqual(4);
  });

  it('every ```ts block of README.md and docs/*.md compiles under strict', () => {
    expect(errors.filter((error) => !error.startsWith('docs/broken.md:'))).toEqual([]);
  });

  it('a broken snippet is reported with its file and line', () => {
    const reported = errors.filter((error) => error.startsWith('docs/broken.md:'));
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatch(/^docs\/broken\.md:5:7 Type .* is not assignable to type 'number'/);
  });
});
