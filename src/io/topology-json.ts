import { parseTopology, type Topology } from '../domain/topology.ts';
import { readInputTextSync } from './input-file.ts';
import { parseJsonDocument } from './json-document.ts';

export { jsonErrorOffset } from './json-document.ts';

/** Parse topology JSON text; a syntax error names the file and line, a schema error the field. */
export function parseTopologyJson(text: string, file: string): Topology {
  return parseTopology(parseJsonDocument(text, file), file);
}

export function readTopologyJson(path: string): Topology {
  return parseTopologyJson(readInputTextSync(path), path);
}
