/// <reference lib="dom" />
/**
 * A few lines instead of a framework: elements are built with text nodes only (never
 * innerHTML), so nothing the API returns can become markup.
 */
type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | undefined | ((ev: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'number' ? String(c) : c);
  }
}

/** Replaces everything inside `el`. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

export function link(href: string, text: string, attributes: Attributes = {}): HTMLAnchorElement {
  return h('a', { href, ...attributes }, text);
}

export function table(
  headings: readonly string[],
  rows: readonly (readonly Child[])[],
  attributes: Attributes = {},
): HTMLTableElement {
  return h(
    'table',
    attributes,
    h('thead', {}, h('tr', {}, ...headings.map((t) => h('th', {}, t)))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c))))),
  );
}

export const fmtTime = (ms: number | null | undefined): string =>
  ms === null || ms === undefined
    ? '—'
    : new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + 'Z';

export const fmtNumber = (n: number | null | undefined, digits = 1): string =>
  n === null || n === undefined ? '—' : n.toFixed(digits);
