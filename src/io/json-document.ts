import { InputValidationError } from '../domain/errors.ts';

/**
 * Parse a user's JSON file. A syntax error names the file and the line, because V8's message
 * gives at best a character offset.
 */
export function parseJsonDocument(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    rejectCsvAsJson(text, file);
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message);
    const offset = position ? Number(position[1]) : jsonErrorOffset(text);
    const line = offset === undefined ? undefined : lineAt(text, offset);
    const brief = message.replace(/\s*\(line \d+ column \d+\)/, '').replace(/, ".*$/s, '');
    throw new InputValidationError(line === undefined ? { file } : { file, line }, `invalid JSON: ${brief}`);
  }
}

/**
 * A CSV file given where a JSON document belongs (a partitions file passed as `--topology`, say) says so,
 * rather than reporting V8's `Unexpected token` at the first letter of its header.
 */
function rejectCsvAsJson(text: string, file: string): void {
  const firstLine = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0];
  if (/^\s*[{["]/.test(firstLine) || !firstLine.includes(',')) return;
  throw new InputValidationError(
    { file, line: 1 },
    `this looks like CSV (header '${firstLine.slice(0, 80)}'), not JSON; expected a JSON document`,
  );
}

function lineAt(text: string, position: number): number {
  let line = 1;
  for (let i = 0; i < position && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * Offset of the first JSON syntax error, for messages where V8 gives no position
 * (`Unexpected token ',', ..."x": [,]... is not valid JSON`). A small recursive-descent scanner.
 */
export function jsonErrorOffset(text: string): number | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i])) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail();
  };
  const string = () => {
    if (text[i] !== '"') fail();
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if (text.charCodeAt(i) < 0x20) fail();
      i++;
    }
    if (i >= text.length) fail();
    i++;
  };
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!match) fail();
    i += match![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return;
        } else fail();
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return;
        } else fail();
      }
    } else if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else number();
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
    return undefined;
  } catch (offset) {
    return typeof offset === 'number' ? offset : undefined;
  }
}
