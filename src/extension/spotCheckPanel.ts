/**
 * The spot-check report panel: one WebviewPanel (`damoe.spotCheck`) beside the editor, reused for every run, plus
 * its serializer (brings the report back after a window reload while the extension is active). The logic lives in
 * SpotCheckPanelCore; this file only connects it to the vscode API. CSP, nonce and assets as the routing panel.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as vscode from 'vscode';
import type { SpotCheckLinking } from '../shared/protocol';
import { parseSpotCheckMessage, parseSpotCheckState } from '../shared/validate';
import { routingPanelHtml } from '../webview/html';
import { SpotCheckPanelCore, type SpotCheckPanelHandlers } from './spotCheckPanelCore';

export const SPOTCHECK_VIEW_TYPE = 'damoe.spotCheck';
const TITLE = 'DA-MoE Spot-Check';

export class SpotCheckPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | null = null;
  private core: SpotCheckPanelCore | null = null;
  private readonly panelDisposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly handlers: SpotCheckPanelHandlers,
  ) {}

  get exists(): boolean {
    return this.panel !== null;
  }
  get controller(): SpotCheckPanelCore | null {
    return this.core;
  }

  /** Creates the panel beside the editor, or reveals the existing one (without focus when `preserveFocus`). */
  show(preserveFocus = true): SpotCheckPanelCore {
    if (this.panel && this.core) {
      if (!this.panel.visible) this.panel.reveal(vscode.ViewColumn.Beside, preserveFocus);
      return this.core;
    }
    const panel = vscode.window.createWebviewPanel(
      SPOTCHECK_VIEW_TYPE,
      TITLE,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus },
      this.webviewOptions(),
    );
    return this.attach(panel);
  }

  restore(panel: vscode.WebviewPanel, state: unknown): void {
    if (this.panel) {
      panel.dispose();
      return;
    }
    panel.webview.options = this.webviewOptions();
    const core = this.attach(panel);
    const parsed = parseSpotCheckState(state);
    if (parsed?.report) core.showReport(parsed.report, parsed.linking);
  }

  registerSerializer(): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(SPOTCHECK_VIEW_TYPE, {
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
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview')],
    };
  }

  private attach(panel: vscode.WebviewPanel): SpotCheckPanelCore {
    this.panel = panel;
    const core = new SpotCheckPanelCore({ postMessage: (m) => panel.webview.postMessage(m) }, this.handlers, parseSpotCheckMessage);
    this.core = core;
    const icon = vscode.Uri.joinPath(this.extensionUri, 'media', 'icon.png');
    if (icon.scheme === 'file' && fs.existsSync(icon.fsPath)) panel.iconPath = icon;
    this.panelDisposables.push(
      panel.webview.onDidReceiveMessage((m: unknown) => void core.receive(m)),
      panel.onDidDispose(() => {
        for (const d of this.panelDisposables.splice(0)) d.dispose();
        if (this.panel === panel) {
          this.panel = null;
          this.core = null;
        }
      }),
    );
    core.notReady();
    try {
      panel.webview.html = this.html(panel.webview);
    } catch (e) {
      this.handlers.log('error', `The spot-check panel could not be rendered: ${e instanceof Error ? e.message : String(e)}`);
      panel.webview.html = `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'"><title>DA-MoE spot-check</title></head><body><p>The DA-MoE spot-check report could not be shown. Run “DA-MoE: Show Output” for details.</p></body></html>`;
    }
    return core;
  }

  private html(webview: vscode.Webview): string {
    const asset = (name: string) => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview', name)).toString();
    return routingPanelHtml({
      cspSource: webview.cspSource,
      nonce: crypto.randomBytes(18).toString('base64url'),
      scriptUri: asset('spotcheck.js'),
      styleUri: asset('spotcheck.css'),
      title: 'DA-MoE spot-check',
    });
  }
}

export type { SpotCheckLinking };
