/**
 * Theme tokens for canvas drawing, read from VS Code's `--vscode-*` CSS variables (HTML/SVG use the variables
 * directly in CSS). VS Code sets the variables on <html style> and the theme kind as a class on <body>
 * (vscode-light, vscode-dark, vscode-high-contrast, vscode-high-contrast-light); `watchTheme` observes both.
 */
export type ThemeKind = 'light' | 'dark' | 'hc-dark' | 'hc-light';

export interface ThemeTokens {
  kind: ThemeKind;
  highContrast: boolean;
  background: string;
  foreground: string;
  muted: string;
  border: string;
  focus: string;
  hoverBackground: string;
  selectionBackground: string;
  /** Outline colour in high contrast themes ('' elsewhere). */
  contrastBorder: string;
  contrastActiveBorder: string;
  fontFamily: string;
  monoFamily: string;
  fontSize: number;
}

export function themeKind(body: HTMLElement = document.body): ThemeKind {
  const c = body.classList;
  if (c.contains('vscode-high-contrast-light')) return 'hc-light';
  if (c.contains('vscode-high-contrast')) return 'hc-dark';
  if (c.contains('vscode-light')) return 'light';
  return 'dark';
}

export function readTheme(): ThemeTokens {
  const kind = themeKind();
  const highContrast = kind === 'hc-dark' || kind === 'hc-light';
  const cs = getComputedStyle(document.documentElement);
  const bodyCs = getComputedStyle(document.body);
  const v = (name: string, fallback: string): string =>
    cs.getPropertyValue(name).trim() || bodyCs.getPropertyValue(name).trim() || fallback;
  const dark = kind === 'dark' || kind === 'hc-dark';
  const foreground = v('--vscode-foreground', dark ? '#cccccc' : '#3b3b3b');
  const contrastBorder = highContrast ? v('--vscode-contrastBorder', dark ? '#6fc3df' : '#0f4a85') : '';
  const fontSize = parseFloat(v('--vscode-font-size', '13px')) || 13;
  return {
    kind,
    highContrast,
    background: v('--vscode-editor-background', dark ? '#1e1e1e' : '#ffffff'),
    foreground,
    muted: v('--vscode-descriptionForeground', foreground),
    border: highContrast ? contrastBorder : v('--vscode-panel-border', dark ? '#2b2b2b' : '#e5e5e5'),
    focus: v('--vscode-focusBorder', '#0078d4'),
    hoverBackground: v('--vscode-list-hoverBackground', dark ? '#2a2d2e' : '#f0f0f0'),
    selectionBackground: v('--vscode-editor-selectionBackground', dark ? '#264f78' : '#add6ff'),
    contrastBorder,
    contrastActiveBorder: highContrast ? v('--vscode-contrastActiveBorder', dark ? '#f38518' : '#0f4a85') : '',
    fontFamily: v('--vscode-font-family', 'system-ui, sans-serif'),
    monoFamily: v('--vscode-editor-font-family', 'monospace'),
    fontSize,
  };
}

/** Calls `onChange` (debounced to one animation frame) when the theme kind or the variables change. */
export function watchTheme(onChange: (t: ThemeTokens) => void): () => void {
  let scheduled = false;
  const fire = (): void => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      onChange(readTheme());
    });
  };
  const mo = new MutationObserver(fire);
  mo.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-kind'] });
  mo.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  const mq = matchMedia('(prefers-color-scheme: dark)');
  mq.addEventListener('change', fire);
  return () => {
    mo.disconnect();
    mq.removeEventListener('change', fire);
  };
}
