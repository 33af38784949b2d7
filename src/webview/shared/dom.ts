/**
 * Tiny DOM helpers. Text is only ever set through text nodes / textContent (token text is untrusted): there is no
 * innerHTML anywhere in the webview.
 */
export type Child = Node | string | null | undefined | false;

export interface Props {
  class?: string;
  text?: string;
  testid?: string;
  attrs?: Record<string, string | number | boolean | null | undefined>;
  on?: Partial<{ [K in keyof HTMLElementEventMap]: (ev: HTMLElementEventMap[K]) => void }>;
}

export function setAttrs(node: Element, attrs: Props['attrs']): void {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) node.removeAttribute(k);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Props, children?: Child[]): HTMLElementTagNameMap[K];
export function el(tag: string, props?: Props, children?: Child[]): HTMLElement;
export function el(tag: string, props: Props = {}, children: Child[] = []): HTMLElement {
  const node = document.createElement(tag);
  if (props.class) node.className = props.class;
  if (props.testid) node.dataset.testid = props.testid;
  if (props.text !== undefined) node.textContent = props.text;
  setAttrs(node, props.attrs);
  if (props.on) {
    for (const [type, fn] of Object.entries(props.on)) node.addEventListener(type, fn as EventListener);
  }
  append(node, children);
  return node;
}

export function append(parent: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Props['attrs'] = {},
  children: Child[] = [],
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

export function clear(node: Node): void {
  while (node.firstChild) node.removeChild(node.firstChild);
}

/** Token text made visible: control characters and edge whitespace shown as symbols. */
export function displayToken(text: string): string {
  if (text.length === 0) return '∅';
  return (
    text
      .replace(/\r\n|\n|\r/g, '⏎')
      .replace(/\t/g, '→')
      // eslint-disable-next-line no-control-regex -- control characters are shown as \xNN on purpose
      .replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
      .replace(/^ +| +$/g, (m) => '·'.repeat(m.length))
  );
}

export function fmtPct(p: number): string {
  return `${(p * 100).toFixed(p >= 0.995 || p < 0.001 ? 0 : 1)}%`;
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
}

/**
 * An integer as toLocaleString('en') writes it ("1,234,567"), without Intl: a page's first toLocaleString loads
 * the number formatter, 15 to 30 ms of a fresh routing panel's first paint (bench/paint.ts). Other numbers go to
 * toLocaleString.
 */
export function fmtCount(n: number): string {
  if (!Number.isSafeInteger(n)) return n.toLocaleString('en');
  return (n < 0 ? '-' : '') + String(Math.abs(n)).replace(/\B(?=(\d{3})+$)/g, ',');
}

export function fmtNum(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '–';
}

/**
 * Runs `fn` in a task after the next frame has been painted (an animation frame callback, then a timer task): for
 * work the first paint should not wait for.
 */
export function afterPaint(fn: () => void): void {
  requestAnimationFrame(() => setTimeout(fn, 0));
}
