/**
 * The error UI: a UserError (errorsLogic.ts, pure) goes to the log with its details and to a notification whose
 * buttons do what they say (Show Output, Select Model, Open Settings).
 */
import * as vscode from 'vscode';
import type { UserError } from './errorsLogic';

export class ErrorReporter {
  constructor(private readonly log: vscode.LogOutputChannel) {}

  report(ue: UserError): void {
    this.log.error(ue.message);
    for (const d of ue.details) this.log.error(`  ${d}`);
    const show =
      ue.severity === 'error'
        ? vscode.window.showErrorMessage
        : ue.severity === 'warning'
          ? vscode.window.showWarningMessage
          : vscode.window.showInformationMessage;
    void Promise.resolve(show(ue.message, ...ue.actions)).then((choice) => {
      if (choice === 'Show Output') this.showOutput();
      else if (choice === 'Select Model') void vscode.commands.executeCommand('damoe.selectModel');
      else if (choice === 'Open Settings')
        void vscode.commands.executeCommand('workbench.action.openSettings', ue.settingsQuery ?? 'damoe.');
    });
  }

  showOutput(): void {
    this.log.show(true);
  }
}
