/** Self-contained HTML rendering of spot-check reports (CLI --html, VS Code "Export HTML"). */
export { renderSpotCheckHtml, escapeHtml } from './html';
export type { RenderOptions } from './html';
export { viridis, viridisInk } from './palette';
