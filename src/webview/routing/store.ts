/** The panel's state: one object, patched by `update`, observed by the views. Persists PanelState via setState. */
import type { Analysis } from '../../shared/analysis';
import { PROTOCOL_VERSION } from '../../shared/protocol/envelope';
import type { HighlightColorBy, PanelState } from '../../shared/protocol/routing';
import type { ImportanceCheck } from '../../shared/importance-check';

export type HeatmapValue = PanelState['heatmapValue'];
export type ViewMode = PanelState['view'];
export type StripColorBy = NonNullable<PanelState['stripColorBy']>;

export interface AppState {
  analysis: Analysis | null;
  stale: boolean;
  layer: number;
  /** The user chose the layer: new analyses keep it instead of opening on their most dynamic layer. */
  layerPinned: boolean;
  heatmapValue: HeatmapValue;
  /** How the editor highlights are coloured (the host's setting until the user picks in the panel). */
  highlightColorBy: HighlightColorBy;
  highlightsEnabled: boolean;
  view: ViewMode;
  /** What colours the token strip's chips: importance in the layer, or (causal LMs) the token's loss. */
  stripColorBy: StripColorBy;
  /** Token under the editor cursor (from the host). */
  cursorToken: number | null;
  /** Token under the pointer / keyboard focus in this panel. */
  hoverToken: number | null;
  running: boolean;
  progressMessage: string | null;
  error: string | null;
  /** Buttons of the error banner (actions the host offers for the error). */
  errorActions: string[];
  notice: string | null;
  /** The importance check of the analysis (also kept on it as importance_check, which is what is persisted). */
  importanceCheck: ImportanceCheck | null;
  importanceRunning: boolean;
  /** Model inputs done of total, while the check runs. */
  importanceProgress: { done: number; total: number } | null;
}

export type StateKey = keyof AppState;
export type Listener = (state: Readonly<AppState>, changed: ReadonlySet<StateKey>) => void;

// importanceCheck: saved as the analysis's importance_check (the analysis object carries it).
const PERSISTED: readonly StateKey[] = ['analysis', 'layer', 'layerPinned', 'heatmapValue', 'view', 'stripColorBy', 'importanceCheck'];

export function initialState(): AppState {
  return {
    analysis: null,
    stale: false,
    layer: 0,
    layerPinned: false,
    heatmapValue: 'gateK',
    highlightColorBy: 'importance',
    highlightsEnabled: true,
    view: 'chart',
    stripColorBy: 'importance',
    cursorToken: null,
    hoverToken: null,
    running: false,
    progressMessage: null,
    error: null,
    errorActions: [],
    notice: null,
    importanceCheck: null,
    importanceRunning: false,
    importanceProgress: null,
  };
}

/**
 * A new analysis is persisted right after the frame that paints it; layer / value / view changes are coalesced (PERSIST_DELAY_MS), because
 * setState serialises the whole analysis (megabytes for long texts) and layer switching should stay instant.
 * Pending saves are flushed when the page is hidden or unloaded.
 */
export const PERSIST_DELAY_MS = 150;

export class Store {
  private state: AppState;
  private readonly listeners = new Set<Listener>();
  private persistTimer: ReturnType<typeof setTimeout> | undefined;
  /** A change is not saved yet. */
  private pending = false;

  constructor(
    initial: AppState,
    private readonly persist?: (state: PanelState) => void,
  ) {
    this.state = initial;
    if (persist && typeof window !== 'undefined') {
      window.addEventListener('pagehide', () => this.flush());
      document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'hidden') this.flush();
      });
    }
  }

  /** Saves now if a save is pending. */
  flush(): void {
    if (!this.pending) return;
    this.pending = false;
    if (this.persistTimer !== undefined) clearTimeout(this.persistTimer);
    this.persistTimer = undefined;
    this.persist?.(toPanelState(this.state));
  }

  private schedulePersist(afterPaint: boolean): void {
    if (!this.persist) return;
    this.pending = true;
    if (this.persistTimer !== undefined) clearTimeout(this.persistTimer);
    this.persistTimer = undefined;
    if (afterPaint) {
      // A new analysis: saved once the frame that paints it is done (setState serialises megabytes and the first
      // paint should not wait for it); `flush` saves at once if the page is hidden before.
      if (typeof requestAnimationFrame === 'function' && typeof requestIdleCallback === 'function')
        requestAnimationFrame(() => requestIdleCallback(() => this.flush(), { timeout: 500 }));
      else setTimeout(() => this.flush(), 0);
      return;
    }
    this.persistTimer = setTimeout(() => this.flush(), PERSIST_DELAY_MS);
  }

  get(): Readonly<AppState> {
    return this.state;
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  update(patch: Partial<AppState>): void {
    const changed = new Set<StateKey>();
    for (const key of Object.keys(patch) as StateKey[]) {
      if (!Object.is(this.state[key], patch[key])) changed.add(key);
    }
    if (changed.size === 0) return;
    const next = { ...this.state, ...patch };
    // Keep the layer inside the analysis.
    const layers = next.analysis?.layers.length ?? 0;
    if (layers > 0 && (next.layer < 0 || next.layer >= layers)) {
      next.layer = Math.min(Math.max(0, next.layer), layers - 1);
      changed.add('layer');
    }
    this.state = next;
    if (PERSISTED.some((k) => changed.has(k))) this.schedulePersist(changed.has('analysis'));
    for (const l of this.listeners) l(this.state, changed);
  }
}

export function toPanelState(s: Readonly<AppState>): PanelState {
  return {
    protocol: PROTOCOL_VERSION,
    analysis: s.analysis,
    layer: s.layer,
    heatmapValue: s.heatmapValue,
    view: s.view,
    layerPinned: s.layerPinned,
    stripColorBy: s.stripColorBy,
  };
}
