/**
 * The HTML of the routing panel webview. Pure (no `vscode` import): the host passes the URIs it got from
 * `webview.asWebviewUri` and `webview.cspSource`, and a fresh nonce per render.
 *
 * CSP: nothing loads except the bundled script (by nonce), the bundled stylesheet and fonts/images from the
 * extension (cspSource). @vscode-elements (Lit) styles its shadow roots with constructable stylesheets
 * (adoptedStyleSheets), which CSP `style-src` does not block, so no 'unsafe-inline' is needed (checked in real
 * Chromium by test/unit/webview/routing.test.ts, which fails on any CSP violation). Dynamic sizes and colours are
 * set through the CSSOM (element.style.x = …), which CSP also allows; there are no inline `style=` attributes.
 */
export interface RoutingPanelHtmlOptions {
  /** `webview.cspSource`, e.g. `https://*.vscode-cdn.net`. */
  cspSource: string;
  /** A fresh random nonce (base64/alphanumeric) for this render. */
  nonce: string;
  /** URI of dist/webview/routing.js as seen by the webview. */
  scriptUri: string;
  /** URI of dist/webview/routing.css as seen by the webview. */
  styleUri: string;
  /** Optional URI of codicon.css (@vscode/codicons), for vscode-icon / codicons. */
  codiconsUri?: string;
  /** Document title (not visible in VS Code; used by screen readers). */
  title?: string;
}

const NONCE_RE = /^[A-Za-z0-9+/=_-]{8,}$/;

/** Escapes text for an HTML attribute value or text node. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

export function routingPanelHtml(opts: RoutingPanelHtmlOptions): string {
  if (!NONCE_RE.test(opts.nonce)) throw new Error('routingPanelHtml: nonce must be at least 8 characters of [A-Za-z0-9+/=_-]');
  // One or more CSP source expressions; a ';' or a line break would start a new directive.
  if (!opts.cspSource.trim() || /[;\r\n<>"]/.test(opts.cspSource)) throw new Error('routingPanelHtml: invalid cspSource');
  const n = escapeHtml(opts.nonce);
  const src = opts.cspSource;
  const csp = [
    "default-src 'none'",
    `img-src ${src} data:`,
    `style-src ${src} 'nonce-${n}'`,
    `script-src 'nonce-${n}'`,
    `font-src ${src}`,
  ].join('; ');
  const codicons = opts.codiconsUri
    ? `\n    <link rel="stylesheet" nonce="${n}" href="${escapeHtml(opts.codiconsUri)}" id="vscode-codicon-stylesheet">`
    : '';
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="Content-Security-Policy" content="${csp.replace(/&/g, '&amp;')}">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    <title>${escapeHtml(opts.title ?? 'DA-MoE routing')}</title>
    <link rel="stylesheet" nonce="${n}" href="${escapeHtml(opts.styleUri)}">${codicons}
  </head>
  <body>
    <div id="app" data-testid="app" aria-busy="true"></div>
    <script nonce="${n}" src="${escapeHtml(opts.scriptUri)}"></script>
  </body>
</html>
`;
}
