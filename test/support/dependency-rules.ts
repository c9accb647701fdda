import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The layers of src/ and functions/ and which may import which (docs/architecture.md explains them). A file's
 * layer comes from its path; an import is allowed when the importing layer lists the imported one. Checked by
 * test/unit/architecture/dependency-rules.test.ts.
 */

export type Layer =
  | 'support'
  | 'domain'
  | 'adapters'
  | 'use-cases'
  | 'lambda-runtime'
  | 'lambda-wiring'
  | 'entry-points'
  | 'tools'
  | 'cdk-app';

const USE_CASE_FOLDERS = [
  'src/profiler/',
  'src/planner-service/',
  'src/execute-plan/',
  'src/scaling/',
  'src/migration/',
  'src/data-plane/',
  'src/interceptor/',
];
const TOOL_FOLDERS = [
  'src/local/',
  'src/live/',
  'src/cli/',
  'src/io/',
  'src/report/',
  'src/verification/',
  'src/types/',
  'src/backtest-runner/',
];

/**
 * The layer of a path relative to the repository root (forward slashes): src/ and functions/ by folder, and the
 * CDK app (lib/, bin/) as a whole, which only the tools may import. Undefined elsewhere (test/, bench/, …).
 */
export function layerOf(path: string): Layer | undefined {
  if (path.startsWith('src/support/')) return 'support';
  if (path.startsWith('src/domain/')) return 'domain';
  if (path.startsWith('src/adapters/')) return 'adapters';
  if (USE_CASE_FOLDERS.some((folder) => path.startsWith(folder))) return 'use-cases';
  // The Lambda runtime the handler factories of the use cases build on: middy, Powertools, the shared sinks.
  if (path === 'src/lambda/instrumented-handler.ts') return 'lambda-runtime';
  if (path.startsWith('src/lambda/')) return 'lambda-wiring';
  if (path.startsWith('functions/')) return 'entry-points';
  if (TOOL_FOLDERS.some((folder) => path.startsWith(folder))) return 'tools';
  if (path.startsWith('lib/') || path.startsWith('bin/')) return 'cdk-app';
  return undefined;
}

/** The layers each layer may import (itself included where listed). Anything else is an upward or sideways edge. */
export const ALLOWED_IMPORTS: Readonly<Record<Layer, readonly Layer[]>> = {
  support: ['support'],
  domain: ['domain', 'support'],
  adapters: ['adapters', 'domain', 'support'],
  'use-cases': ['use-cases', 'domain', 'support', 'lambda-runtime'],
  'lambda-runtime': ['lambda-runtime', 'domain', 'support'],
  'lambda-wiring': ['lambda-wiring', 'lambda-runtime', 'use-cases', 'adapters', 'domain', 'support'],
  'entry-points': [
    'entry-points',
    'lambda-wiring',
    'lambda-runtime',
    'use-cases',
    'adapters',
    'domain',
    'support',
  ],
  // The CLI and the local stand-ins wire everything themselves (and synthesize lib/ for the local runners).
  tools: [
    'tools',
    'cdk-app',
    'entry-points',
    'lambda-wiring',
    'lambda-runtime',
    'use-cases',
    'adapters',
    'domain',
    'support',
  ],
  // Not checked here (only src/ and functions/ are); listed so every layer has its row.
  'cdk-app': [
    'cdk-app',
    'tools',
    'entry-points',
    'lambda-wiring',
    'lambda-runtime',
    'use-cases',
    'adapters',
    'domain',
    'support',
  ],
};

/** Packages a layer must not import: the domain may use only the pure libraries it lists. */
function packageRefused(layer: Layer, specifier: string): string | undefined {
  const cdk =
    specifier === 'aws-cdk-lib' || specifier.startsWith('aws-cdk-lib/') || specifier === 'constructs';
  switch (layer) {
    case 'support':
      return specifier.startsWith('node:') ? undefined : 'support imports no package';
    case 'domain':
      return ['zod', 'highs'].includes(specifier) ? undefined : 'the domain imports only zod and highs';
    case 'use-cases':
      if (specifier.startsWith('@aws-sdk/')) return 'use cases reach AWS through ports, never the SDK';
      return cdk ? 'use cases never import the CDK' : undefined;
    case 'adapters':
    case 'lambda-runtime':
    case 'lambda-wiring':
    case 'entry-points':
      return cdk ? 'only lib/ and the local tools import the CDK' : undefined;
    case 'tools':
    case 'cdk-app':
      return undefined;
  }
}

/** What a layer must not do in its code: read the environment, or the wall clock. */
const FORBIDDEN_CODE: Readonly<Partial<Record<Layer, readonly { pattern: RegExp; why: string }[]>>> = {
  support: [{ pattern: /\bprocess\.env\b/, why: 'reads process.env' }],
  domain: [
    { pattern: /\bprocess\.env\b/, why: 'reads process.env' },
    // Elapsed-time measurement (performance.now) is allowed: the solver and the simulator report their run time.
    { pattern: /\bDate\.now\s*\(/, why: 'reads the wall clock (Date.now())' },
    { pattern: /\bnew\s+Date\s*\(\s*\)/, why: 'reads the wall clock (new Date())' },
  ],
  adapters: [{ pattern: /\bprocess\.env\b/, why: 'reads process.env (configuration comes from src/lambda)' }],
  'use-cases': [
    { pattern: /\bprocess\.env\b/, why: 'reads process.env (configuration comes from src/lambda)' },
  ],
};

export interface Violation {
  readonly file: string;
  readonly rule: string;
}

/**
 * The source with comments removed (`code`), and with string contents removed too (`tokens`). A small lexer:
 * strings, template literals (with `${}` nesting) and regular expression literals are told apart from comments,
 * so `'http://…'` or a regex with an escaped slash and star cannot open a comment, and an import written in a
 * comment is no import.
 */
export function lex(source: string): { code: string; tokens: string } {
  let code = '';
  let tokens = '';
  const emit = (text: string, inString = false) => {
    code += text;
    tokens += inString ? text.replace(/[^\n]/g, ' ') : text;
  };
  const templateDepths: number[] = []; // brace depth at which each open `${` returns to its template
  let braces = 0;
  let lastSignificant = '';
  let word = ''; // the identifier or keyword that ended last (whitespace keeps it), for `return /re/`
  let i = 0;
  const regexAllowed = () =>
    lastSignificant === '' ||
    '(,=:[!&|?{};+-*%<>~^'.includes(lastSignificant) ||
    ['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'void', 'yield', 'await', 'delete'].includes(word);
  const readString = (quote: string) => {
    let j = i + 1;
    while (j < source.length && source[j] !== quote && source[j] !== '\n') j += source[j] === '\\' ? 2 : 1;
    emit(quote);
    emit(source.slice(i + 1, j), true);
    emit(source[j] ?? '');
    i = j + 1;
  };
  const readTemplate = () => {
    // From just after a backtick or a closing `}` of `${…}`: up to the closing backtick or the next `${`.
    let j = i;
    while (j < source.length && source[j] !== '`' && !(source[j] === '$' && source[j + 1] === '{'))
      j += source[j] === '\\' ? 2 : 1;
    emit(source.slice(i, j), true);
    if (source[j] === '`') {
      emit('`');
      i = j + 1;
    } else {
      emit('${');
      templateDepths.push(braces);
      braces++;
      i = j + 2;
    }
  };
  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end < 0 ? source.length : end + 2;
      emit(source.slice(i, stop).replace(/[^\n]/g, ' '));
      i = stop;
    } else if (c === "'" || c === '"') {
      readString(c);
      lastSignificant = c;
      word = '';
    } else if (c === '`') {
      emit('`');
      i++;
      readTemplate();
      lastSignificant = '`';
      word = '';
    } else if (c === '/' && regexAllowed()) {
      let j = i + 1;
      let inClass = false;
      while (j < source.length && source[j] !== '\n' && (inClass || source[j] !== '/')) {
        if (source[j] === '[') inClass = true;
        else if (source[j] === ']') inClass = false;
        j += source[j] === '\\' ? 2 : 1;
      }
      emit(source.slice(i, j + 1), true);
      i = j + 1;
      lastSignificant = '/';
      word = '';
    } else {
      if (c === '{') braces++;
      if (c === '}') {
        braces--;
        if (templateDepths.length > 0 && templateDepths[templateDepths.length - 1] === braces) {
          templateDepths.pop();
          emit('}');
          i++;
          readTemplate();
          lastSignificant = '`';
          word = '';
          continue;
        }
      }
      emit(c);
      i++;
      if (!/\s/.test(c)) {
        // `i` is past `c` now: the word goes on when the character just before `c` was part of it.
        word = /[\w$]/.test(c) ? (/[\w$]/.test(source[i - 2] ?? '') ? word + c : c) : '';
        lastSignificant = c;
      }
    }
  }
  return { code, tokens };
}

/** Every module specifier a file imports or re-exports: static, side-effect, `import type` and dynamic. */
export function importSpecifiers(source: string): string[] {
  const { code } = lex(source);
  const found: string[] = [];
  const patterns = [
    /(?:^|[;\n}])\s*(?:import|export)\s[^;'"`]*?\bfrom\s*(['"])([^'"]+)\1/g,
    /(?:^|[;\n}])\s*import\s*(['"])([^'"]+)\1/g,
    /\bimport\s*\(\s*(['"])([^'"]+)\1\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of code.matchAll(pattern)) found.push(match[2]);
  return found;
}

/** The violations of one file (`path` relative to the repository root, forward slashes). */
export function checkFile(path: string, source: string): Violation[] {
  const layer = layerOf(path);
  if (!layer)
    return [{ file: path, rule: 'is in no layer: give its folder one in test/support/dependency-rules.ts' }];
  const violations: Violation[] = [];
  for (const specifier of importSpecifiers(source)) {
    if (specifier.startsWith('.')) {
      const target = posix.normalize(posix.join(posix.dirname(path), specifier));
      const targetLayer = layerOf(target);
      if (!targetLayer || !ALLOWED_IMPORTS[layer].includes(targetLayer))
        violations.push({
          file: path,
          rule: `${layer} must not import ${targetLayer ?? target.split('/')[0] ?? target} (${specifier})`,
        });
    } else {
      const refused = packageRefused(layer, specifier);
      if (refused) violations.push({ file: path, rule: `${refused} (${specifier})` });
    }
  }
  const { tokens } = lex(source);
  for (const { pattern, why } of FORBIDDEN_CODE[layer] ?? [])
    if (pattern.test(tokens)) violations.push({ file: path, rule: `${layer} ${why}` });
  return violations;
}

/** The TypeScript files under `folders` (relative to `root`), as paths relative to it. */
export function sourceFiles(root: string, folders: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) out.push(relative(root, full).split(/[\\/]/).join('/'));
    }
  };
  for (const folder of folders) walk(join(root, folder));
  return out.sort();
}

/** Check every TypeScript file of src/ and functions/ under `root`. */
export function checkRepository(root: string): { files: number; imports: number; violations: Violation[] } {
  const files = sourceFiles(root, ['src', 'functions']);
  let imports = 0;
  const violations: Violation[] = [];
  for (const file of files) {
    const source = readFileSync(join(root, file), 'utf8');
    imports += importSpecifiers(source).length;
    violations.push(...checkFile(file, source));
  }
  return { files: files.length, imports, violations };
}

export const REPOSITORY_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
