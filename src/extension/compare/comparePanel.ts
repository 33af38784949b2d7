/**
 * The Compare Models panel: one WebviewPanel (`damoe.compare`) beside the editor, reused for every comparison. The
 * logic lives in ComparePanelLogic; the vscode side is SingletonWebviewPanel, as for the other panels.
 */
import * as vscode from 'vscode';
import { type CompareHostMessage, parseCompareMessage } from '../../shared/protocol/compare';
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

  /** Nothing is restored after a reload: a comparison holds engines' results, not a file to reopen. */
  protected restoreState(): void {}
}
