/**
 * The routing panel: one WebviewPanel (`damoe.routing`) beside the editor, reused for every analysis, plus the
 * serializer that brings it back after a window reload. The logic lives in RoutingPanelCore (panelCore.ts); this
 * file only connects it to the vscode API.
 *
 * No retainContextWhenHidden: the webview keeps its view state with setState (PanelState), and a hidden panel that
 * reloads posts `ready` again, on which the core re-sends the current analysis. That costs one re-render on show
 * instead of keeping a hidden renderer alive.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as vscode from 'vscode';
import type { Analysis } from '../core/analysis/types';
import { parsePanelState, parseWebviewMessage } from '../shared/validate';
import { routingPanelHtml } from '../webview/html';
import { RoutingPanelCore, type PanelHandlers } from './panelCore';

export const ROUTING_VIEW_TYPE = 'damoe.routing';
const TITLE = 'DA-MoE Routing';

export interface RoutingPanelHost extends Omit<PanelHandlers, 'log'> {
  log: PanelHandlers['log'];
  /** A panel came back from a reload with this analysis in its saved state. */
  restored(analysis: Analysis): void;
  disposed(): void;
}

export class RoutingPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | null = null;
  private core: RoutingPanelCore | null = null;
  private readonly panelDisposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly host: RoutingPanelHost,
  ) {}

  get visible(): boolean {
    return !!this.panel?.visible;
  }
  get exists(): boolean {
    return this.panel !== null;
  }
  /** For tests and the export command. */
  get controller(): RoutingPanelCore | null {
    return this.core;
  }

  /** Creates the panel beside the editor, or reveals the existing one without taking focus. */
  show(): RoutingPanelCore {
    if (this.panel && this.core) {
      if (!this.panel.visible) this.panel.reveal(vscode.ViewColumn.Beside, true);
      return this.core;
    }
    const panel = vscode.window.createWebviewPanel(
      ROUTING_VIEW_TYPE,
      TITLE,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      this.webviewOptions(),
    );
    return this.attach(panel);
  }

  /** Serializer path: VS Code re-created the panel after a reload; `state` is what the webview saved. */
  restore(panel: vscode.WebviewPanel, state: unknown): void {
    if (this.panel) {
      // Only one routing panel is kept; a second restored one (e.g. from a split editor group) is closed.
      panel.dispose();
      return;
    }
    panel.webview.options = this.webviewOptions();
    const core = this.attach(panel);
    const parsed = parsePanelState(state);
    if (parsed?.analysis) {
      // The analysis's place in the editor is unknown after a reload; the host re-links it if it can.
      core.showAnalysis(parsed.analysis, false);
      this.host.restored(parsed.analysis);
    } else if (state !== undefined && state !== null) {
      this.host.log('info', 'The routing panel had no usable saved state; it starts empty.');
    }
  }

  registerSerializer(): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(ROUTING_VIEW_TYPE, {
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

  private attach(panel: vscode.WebviewPanel): RoutingPanelCore {
    this.panel = panel;
    const core = new RoutingPanelCore(
      { postMessage: (m) => panel.webview.postMessage(m) },
      this.host,
      parseWebviewMessage,
    );
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
        this.host.disposed();
      }),
    );
    core.notReady();
    try {
      panel.webview.html = this.html(panel.webview);
    } catch (e) {
      // A rendering bug must not break the command that opened the panel: show a static note, log the cause.
      this.host.log('error', `The routing panel could not be rendered (cspSource ${JSON.stringify(panel.webview.cspSource)}): ${e instanceof Error ? e.message : String(e)}`);
      panel.webview.html = fallbackHtml();
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
      scriptUri: asset('routing.js'),
      styleUri: asset('routing.css'),
      codiconsUri: codicons.scheme === 'file' && fs.existsSync(codicons.fsPath) ? asset('codicon.css') : undefined,
    });
  }
}

/** Static page (no script, nothing loaded) shown when the real HTML cannot be built. */
function fallbackHtml(): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'">
<title>DA-MoE routing</title></head><body><p>The DA-MoE routing panel could not be shown. Run “DA-MoE: Show Output” for details.</p></body></html>`;
}
