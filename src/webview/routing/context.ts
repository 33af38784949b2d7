/** What every view gets: the store, the message client, theme tokens and the derived analysis data. */
import type { HighlightColorBy } from '../../shared/protocol/routing';
import type { MessageClient } from './client';
import type { Derived } from './model';
import type { Store } from './store';
import type { ThemeTokens } from '../shared/theme';

export interface Ctx {
  store: Store;
  client: MessageClient;
  theme(): ThemeTokens;
  derived(): Derived | null;
  /** Pointer/keyboard is on token t (null: left the tokens): highlight everywhere and tell the host. */
  hover(tokenIndex: number | null): void;
  /** Reveal token t in the editor. */
  reveal(tokenIndex: number): void;
  /** The user picked layer l (it stays picked for later analyses). */
  selectLayer(layer: number): void;
  setHighlightColorBy(colorBy: HighlightColorBy): void;
  /** The user pressed a button of the error banner. */
  errorAction(action: string): void;
}

export interface View {
  readonly root: HTMLElement;
  /** Called after every store update with the keys that changed (and on theme change with 'theme'). */
  update(changed: ReadonlySet<string>): void;
}
