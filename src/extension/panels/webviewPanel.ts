/**
 * One webview panel of a kind beside the editor, reused, with its serializer: what the routing panel and the
 * spot-check report share. A subclass names its page and builds its logic (tested without vscode); this
 * class owns the vscode side: webview options, icon, the message wiring, the nonce'd HTML and disposal.
 *
 * No retainContextWhenHidden: a webview keeps its view state with setState, and a hidden panel that reloads posts
 * `ready` again, on which its PanelChannel re-sends the current state. That costs one re-render on show instead of keeping a
 * hidden renderer alive.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as vscode from 'vscode';
import { routingPanelHtml } from './html';
import type { PanelLog } from './panelChannel';

/** What the panel needs of its logic. */
export interface PanelLogic {
  receive(raw: unknown): unknown;
  /** The webview is (re)loading: hold messages until it posts `ready`. */
  notReady(): void;
}

export interface PanelPage {
  viewType: string;
  /** Tab title. */
  title: string;
  /** Bundled script and style under dist/webview. */
  script: string;
  style: string;
  /** The page's <title>, and what the fallback note calls the panel ("routing panel"). */
  documentTitle: string;
  what: string;
  /** Link codicon.css when the bundle has it. */
  codicons?: boolean;
}

/** C: the panel's logic; M: the messages it posts to the webview. */
export abstract class SingletonWebviewPanel<C extends PanelLogic, M> implements vscode.Disposable {
  private panel: vscode.WebviewPanel | null = null;
  private core: C | null = null;
  private readonly panelDisposables: vscode.Disposable[] = [];

  protected constructor(
    protected readonly extensionUri: vscode.Uri,
    private readonly page: PanelPage,
    private readonly logTo: PanelLog,
  ) {}

  /** The logic for a new webview; `post` sends to it. */
  protected abstract createLogic(post: (message: M) => Thenable<boolean>): C;
  /** Serializer path: show what the webview saved in `state` (it may be anything). */
  protected abstract restoreState(core: C, state: unknown): void;
  /** The panel was closed. */
  protected onDisposed(): void {}

  get visible(): boolean {
    return !!this.panel?.visible;
  }
  /** The editor column the panel is in (undefined when it is not open). */
  get viewColumn(): vscode.ViewColumn | undefined {
    return this.panel?.viewColumn;
  }
  get exists(): boolean {
    return this.panel !== null;
  }
  /** For tests and commands. */
  get controller(): C | null {
    return this.core;
  }

  /**
   * Creates the panel beside the editor (or in `column`), or reveals the existing one (without focus when
   * `preserveFocus`); with a `column`, a panel elsewhere, or hidden behind another tab, is moved there.
   */
  show(preserveFocus = true, column?: vscode.ViewColumn): C {
    if (this.panel && this.core) {
      if (!this.panel.visible || (column !== undefined && this.panel.viewColumn !== column))
        this.panel.reveal(column ?? vscode.ViewColumn.Beside, preserveFocus);
      return this.core;
    }
    const panel = vscode.window.createWebviewPanel(
      this.page.viewType,
      this.page.title,
      { viewColumn: column ?? vscode.ViewColumn.Beside, preserveFocus },
      this.webviewOptions(),
    );
    return this.attach(panel);
  }

  /** VS Code re-created the panel after a reload. Only one panel of the kind is kept: another restored one is closed. */
  restore(panel: vscode.WebviewPanel, state: unknown): void {
    if (this.panel) {
      panel.dispose();
      return;
    }
    panel.webview.options = this.webviewOptions();
    this.restoreState(this.attach(panel), state);
  }

  registerSerializer(): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(this.page.viewType, {
      deserializeWebviewPanel: async (panel, state) => this.restore(panel, state),
    });
  }

  dispose(): void {
    this.panel?.dispose();
  }

  private webviewOptions(): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return {
      enableScripts: true,
      enableFindWidget: true,
      // Only the built webview assets; nothing from the workspace or the rest of the extension.
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview')],
    };
  }

  private attach(panel: vscode.WebviewPanel): C {
    this.panel = panel;
    const core = this.createLogic((m: M) => panel.webview.postMessage(m));
    this.core = core;
    const icon = vscode.Uri.joinPath(this.extensionUri, 'media', 'icon.png');
    if (icon.scheme === 'file' && fs.existsSync(icon.fsPath)) panel.iconPath = icon;
    this.panelDisposables.push(
      panel.webview.onDidReceiveMessage((m: unknown) => void core.receive(m)),
      // No notReady() on hide: a hidden webview (no retained context) drops what is posted, reloads when shown and
      // posts `ready` again, and every `ready` re-sends the full current state. Queueing on hide instead would stall
      // forever if a host ever kept the hidden webview alive (no second `ready`).
      panel.onDidDispose(() => {
        for (const d of this.panelDisposables.splice(0)) d.dispose();
        if (this.panel === panel) {
          this.panel = null;
          this.core = null;
        }
        this.onDisposed();
      }),
    );
    core.notReady();
    try {
      panel.webview.html = this.html(panel.webview);
    } catch (e) {
      // A rendering bug must not break the command that opened the panel: show a static note, log the cause.
      this.logTo(
        'error',
        `The ${this.page.what} could not be rendered (cspSource ${JSON.stringify(panel.webview.cspSource)}): ${e instanceof Error ? e.message : String(e)}`,
      );
      panel.webview.html = fallbackHtml(this.page);
    }
    return core;
  }

  private html(webview: vscode.Webview): string {
    const file = (name: string) => vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview', name);
    const asset = (name: string) => webview.asWebviewUri(file(name)).toString();
    // Codicons are optional (the bundle copies them when the webview uses them); don't reference a missing file.
    const codicons = file('codicon.css');
    return routingPanelHtml({
      cspSource: webview.cspSource,
      // A fresh nonce per load: a script injected through rendered text can never guess it.
      nonce: crypto.randomBytes(18).toString('base64url'),
      scriptUri: asset(this.page.script),
      styleUri: asset(this.page.style),
      codiconsUri: this.page.codicons && codicons.scheme === 'file' && fs.existsSync(codicons.fsPath) ? asset('codicon.css') : undefined,
      title: this.page.documentTitle,
    });
  }
}

/** Static page (no script, nothing loaded) shown when the real HTML cannot be built. */
function fallbackHtml(page: PanelPage): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'">
<title>${page.documentTitle}</title></head><body><p>The DA-MoE ${page.what} could not be shown. Run “DA-MoE: Show Output” for details.</p></body></html>`;
}
