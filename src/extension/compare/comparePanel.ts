/**
 * The Compare Models panel: one WebviewPanel (`damoe.compare`) beside the editor, reused for every comparison, plus
 * its serializer (brings the comparison back after a window reload). The logic lives in ComparePanelLogic; the
 * vscode side is SingletonWebviewPanel, as for the other panels.
 */
import * as vscode from 'vscode';
import { type CompareHostMessage, parseCompareMessage, parseComparePanelState } from '../../shared/protocol/compare';
import { SingletonWebviewPanel } from '../panels/webviewPanel';
import { ComparePanelLogic, type ComparePanelHandlers } from './comparePanelLogic';

export const COMPARE_VIEW_TYPE = 'damoe.compare';

export class ComparePanel extends SingletonWebviewPanel<ComparePanelLogic, CompareHostMessage> {
  constructor(
    extensionUri: vscode.Uri,
    private readonly handlers: ComparePanelHandlers,
  ) {
    super(
      extensionUri,
      {
        viewType: COMPARE_VIEW_TYPE,
        title: 'DA-MoE Compare Models',
        script: 'compare.js',
        style: 'compare.css',
        documentTitle: 'DA-MoE compare models',
        what: 'compare panel',
      },
      handlers.log,
    );
  }

  protected createLogic(post: (message: CompareHostMessage) => Thenable<boolean>): ComparePanelLogic {
    return new ComparePanelLogic({ postMessage: post }, this.handlers, parseCompareMessage);
  }

  /**
   * After a reload: what the webview saved (the dataset comparison and the text view). The engines are not kept;
   * a click on a disagreement starts them again from the report's model paths.
   */
  protected restoreState(core: ComparePanelLogic, state: unknown): void {
    const parsed = parseComparePanelState(state);
    if (!parsed) {
      if (state !== undefined && state !== null) this.handlers.log('info', 'The compare panel had no usable saved state; it starts empty.');
      return;
    }
    if (parsed.report) core.showReport(parsed.report);
    if (parsed.text) core.showText(parsed.text);
  }
}
