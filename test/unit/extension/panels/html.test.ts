import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { escapeHtml, routingPanelHtml } from '../../../../src/extension/panels/html';

const base = {
  cspSource: 'https://*.vscode-cdn.net',
  nonce: 'abcDEF123_-xyz',
  scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/routing.js',
  styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/routing.css',
};

describe('routingPanelHtml', () => {
  it('has the exact CSP and nonce-tagged script and style', () => {
    const html = routingPanelHtml(base);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1];
    assert.equal(
      csp,
      "default-src 'none'; img-src https://*.vscode-cdn.net data:; style-src https://*.vscode-cdn.net 'nonce-abcDEF123_-xyz'; " +
        "script-src 'nonce-abcDEF123_-xyz'; font-src https://*.vscode-cdn.net",
    );
    assert.match(
      html,
      /<script nonce="abcDEF123_-xyz" src="https:\/\/file\+\.vscode-resource\.vscode-cdn\.net\/ext\/dist\/webview\/routing\.js"><\/script>/,
    );
    assert.match(html, /<link rel="stylesheet" nonce="abcDEF123_-xyz" href="[^"]+routing\.css">/);
    assert.equal((html.match(/<script/g) ?? []).length, 1, 'one script, no inline code');
    assert.doesNotMatch(html, /style="/, 'no inline style attributes');
    assert.doesNotMatch(html, /codicon/);
    assert.match(
      routingPanelHtml({ ...base, codiconsUri: 'https://x/codicon.css' }),
      /<link rel="stylesheet" nonce="[^"]+" href="https:\/\/x\/codicon\.css" id="vscode-codicon-stylesheet">/,
    );
  });
  it('escapes URIs and rejects unsafe nonces and sources', () => {
    const html = routingPanelHtml({ ...base, scriptUri: 'https://x/a.js?"><script>alert(1)</script>' });
    assert.doesNotMatch(html, /<script>alert/);
    assert.throws(() => routingPanelHtml({ ...base, nonce: 'short' }), /nonce/);
    assert.throws(() => routingPanelHtml({ ...base, nonce: 'abc"def12345' }), /nonce/);
    assert.throws(() => routingPanelHtml({ ...base, cspSource: "https://x; script-src 'unsafe-inline'" }), /cspSource/);
    assert.throws(() => routingPanelHtml({ ...base, cspSource: '' }), /cspSource/);
    assert.doesNotThrow(() => routingPanelHtml({ ...base, cspSource: "'self' https://*.vscode-cdn.net" }));
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
