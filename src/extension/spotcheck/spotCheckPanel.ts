/**
 * The spot-check report panel: one WebviewPanel (`damoe.spotCheck`) beside the editor, reused for every run, plus
 * its serializer (brings the report back after a window reload while the extension is active). The logic lives in
 * SpotCheckPanelLogic; the vscode side is SingletonWebviewPanel (webviewPanel.ts), as for the routing panel.
 */
import * as vscode from 'vscode';
import {
  type SpotCheckHostMessage,
  type SpotCheckLinking,
  parseSpotCheckMessage,
  parseSpotCheckState,
} from '../../shared/protocol/spotcheck';
import { SpotCheckPanelLogic, type SpotCheckPanelHandlers } from './spotCheckPanelLogic';
import { SingletonWebviewPanel } from '../panels/webviewPanel';

export const SPOTCHECK_VIEW_TYPE = 'damoe.spotCheck';

export class SpotCheckPanel extends SingletonWebviewPanel<SpotCheckPanelLogic, SpotCheckHostMessage> {
  constructor(
    extensionUri: vscode.Uri,
    private readonly handlers: SpotCheckPanelHandlers,
  ) {
    super(
      extensionUri,
      {
        viewType: SPOTCHECK_VIEW_TYPE,
        title: 'DA-MoE Spot-Check',
        script: 'spotcheck.js',
        style: 'spotcheck.css',
        documentTitle: 'DA-MoE spot-check',
        what: 'spot-check report',
      },
      handlers.log,
    );
  }

  protected createLogic(post: (message: SpotCheckHostMessage) => Thenable<boolean>): SpotCheckPanelLogic {
    return new SpotCheckPanelLogic({ postMessage: post }, this.handlers, parseSpotCheckMessage);
  }

  protected onDisposed(): void {
    this.handlers.closed?.();
  }

  protected restoreState(core: SpotCheckPanelLogic, state: unknown): void {
    const parsed = parseSpotCheckState(state);
    if (parsed?.report) core.showReport(parsed.report, parsed.linking);
  }
}

export type { SpotCheckLinking };
