import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../../lib/prestage-function.ts';

/** One clause of a handler's `Permissions:` comment: actions on the resource an environment variable names. */
export interface PermissionClause {
  readonly actions: readonly string[];
  /** The environment variable naming the resource, e.g. PRESTAGE_PLANS_TABLE. */
  readonly target: string;
}

/**
 * The clauses of the `Permissions:` doc comment of a handler entry file, such as
 * `dynamodb:GetItem, dynamodb:UpdateItem on PRESTAGE_PLANS_TABLE; sns:Publish on PRESTAGE_APPROVAL_TOPIC_ARN`
 * (a bare `PutItem` after `dynamodb:GetItem,` keeps the service). Undefined when the file has no such comment.
 * Clauses whose resource is not an environment variable (cell tables by name prefix, `*`) are left out.
 */
export function permissionsOf(entry: string): PermissionClause[] | undefined {
  const source = readFileSync(join(REPO_ROOT, entry), 'utf8');
  const comment = [...source.matchAll(/\/\*\*([\s\S]*?)\*\//g)]
    .map((m) => m[1])
    .find((c) => /Permissions:/.test(c));
  if (!comment) return undefined;
  const text = comment
    .slice(comment.indexOf('Permissions:') + 'Permissions:'.length)
    .split('\n')
    .map((line) => line.replace(/^\s*\*\s?/, ''))
    .join(' ');
  const clauses: PermissionClause[] = [];
  const TARGETS = /\bon\s+(?:the\s+)?([A-Z][A-Z0-9_]+(?:(?:\s*,\s*|\s+and\s+)[A-Z][A-Z0-9_]+)*)/;
  for (const piece of text.split(/;|\s-\s/)) {
    let rest = piece;
    let previous: string[] = [];
    for (;;) {
      const on = TARGETS.exec(rest);
      if (!on) break;
      const before = rest.slice(0, on.index);
      const actions: string[] = [];
      let service = '';
      for (const token of before.matchAll(/\b([a-z0-9-]+):([A-Za-z]+)\b|,\s*([A-Z][A-Za-z]+)\b/g)) {
        if (token[1]) {
          service = token[1];
          actions.push(`${token[1]}:${token[2]}`);
        } else if (service) {
          actions.push(`${service}:${token[3]}`);
        }
      }
      // `X on A and on B`: the second `on` inherits the actions.
      const inherited =
        actions.length === 0 && /^\W*(?:\([^)]*\))?\W*and\s*$/.test(before) ? previous : actions;
      for (const target of on[1].split(/\s*,\s*|\s+and\s+/)) {
        if (inherited.length > 0) clauses.push({ actions: inherited, target });
      }
      previous = inherited;
      rest = rest.slice(on.index + on[0].length);
    }
  }
  return clauses;
}
