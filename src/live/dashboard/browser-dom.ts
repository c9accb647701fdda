/**
 * The slice of the browser's DOM that dashboard-client.ts uses, typed here: the project compiles against Node's
 * types without the DOM library (adding it would change the types of every file, `setTimeout` among them), so
 * the client reaches the browser's globals through these interfaces instead.
 */

export interface DomRect {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

export interface DomEvent {
  readonly target: unknown;
  readonly clientX: number;
  readonly clientY: number;
  readonly key: string;
  preventDefault(): void;
}

export interface DomElement {
  id: string;
  innerHTML: string;
  textContent: string | null;
  hidden: boolean;
  className: string;
  readonly offsetWidth: number;
  readonly offsetHeight: number;
  readonly style: { left: string; top: string; display: string };
  readonly classList: { toggle(name: string, force?: boolean): boolean };
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  closest(selector: string): DomElement | null;
  querySelector(selector: string): DomElement | null;
  appendChild(child: DomElement): DomElement;
  remove(): void;
  focus(): void;
  getBoundingClientRect(): DomRect;
}

export interface DomDocument {
  title: string;
  readonly body: DomElement;
  getElementById(id: string): DomElement | null;
  querySelector(selector: string): DomElement | null;
  createElement(tag: string): DomElement;
  createElementNS(namespace: string, tag: string): DomElement;
  elementFromPoint(x: number, y: number): DomElement | null;
  addEventListener(type: string, listener: (event: DomEvent) => void, options?: { passive?: boolean }): void;
}

export interface DomWindow {
  readonly innerWidth: number;
  readonly innerHeight: number;
  addEventListener(type: string, listener: () => void, options?: { passive?: boolean }): void;
}

/** The page's `document` and `window`, typed as the slice above. */
export function browserGlobals(): { document: DomDocument; window: DomWindow } {
  const scope = globalThis as unknown as { document: DomDocument; window: DomWindow };
  return { document: scope.document, window: scope.window };
}

/** An event's target when it is an element (not a text node or the window). */
export function eventElement(event: DomEvent): DomElement | null {
  const target = event.target as Partial<DomElement> | null;
  return target && typeof target.closest === 'function' ? (target as DomElement) : null;
}
