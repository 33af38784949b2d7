/**
 * The routing panel: one WebviewPanel (`damoe.routing`) beside the editor, reused for every analysis, plus the
 * serializer that brings it back after a window reload. The logic lives in RoutingPanelLogic (routingPanelLogic.ts); the
 * vscode side is SingletonWebviewPanel (webviewPanel.ts).
 */
import * as vscode from 'vscode';
import type { Analysis } from '../../shared/analysis';
import { type HostMessage, parsePanelState, parseWebviewMessage } from '../../shared/protocol/routing';
import { RoutingPanelLogic, type PanelHandlers } from './routingPanelLogic';
import { SingletonWebviewPanel } from '../panels/webviewPanel';

export const ROUTING_VIEW_TYPE = 'damoe.routing';

export interface RoutingPanelHost extends Omit<PanelHandlers, 'log'> {
  log: PanelHandlers['log'];
  /** A panel came back from a reload with this analysis in its saved state. */
  restored(analysis: Analysis): void;
  disposed(): void;
}

export class RoutingPanel extends SingletonWebviewPanel<RoutingPanelLogic, HostMessage> {
  constructor(
    extensionUri: vscode.Uri,
    private readonly host: RoutingPanelHost,
  ) {
    super(
      extensionUri,
      {
        viewType: ROUTING_VIEW_TYPE,
        title: 'DA-MoE Routing',
        script: 'routing.js',
        style: 'routing.css',
        documentTitle: 'DA-MoE routing',
        what: 'routing panel',
        codicons: true,
      },
      host.log,
    );
  }

  protected createLogic(post: (message: HostMessage) => Thenable<boolean>): RoutingPanelLogic {
    return new RoutingPanelLogic({ postMessage: post }, this.host, parseWebviewMessage);
  }

  protected restoreState(core: RoutingPanelLogic, state: unknown): void {
    const parsed = parsePanelState(state);
    if (parsed?.analysis) {
      // The analysis's place in the editor is unknown after a reload; the host re-links it if it can.
      core.showAnalysis(parsed.analysis, false);
      this.host.restored(parsed.analysis);
    } else if (state !== undefined && state !== null) {
      this.host.log('info', 'The routing panel had no usable saved state; it starts empty.');
    }
  }

  protected onDisposed(): void {
    this.host.disposed();
  }
}
