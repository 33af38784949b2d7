/**
 * The error UI: a UserError (errorsLogic.ts, pure) goes to the log with its details and to a notification whose
 * buttons do what they say (Show Output, Select Model, Open Settings), or, while the routing panel is in view, to
 * its error banner with the same buttons (logOnly + runAction): one error is shown once.
 */
import * as vscode from 'vscode';
import type { UserError } from './errorsLogic';

export class ErrorReporter {
  constructor(private readonly log: vscode.LogOutputChannel) {}

  /** The log only: the error is shown elsewhere (the routing panel's banner, with the same buttons). */
  logOnly(ue: UserError): void {
    this.log.error(ue.message);
    for (const d of ue.details) this.log.error(`  ${d}`);
  }

  /** What a button of the error does (the notification's or the panel's). */
  runAction(choice: string | undefined, settingsQuery?: string): void {
    if (choice === 'Show Output') this.showOutput();
    else if (choice === 'Select Model') void vscode.commands.executeCommand('damoe.selectModel');
    else if (choice === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', settingsQuery ?? 'damoe.');
  }

  report(ue: UserError): void {
    this.logOnly(ue);
    const show =
      ue.severity === 'error'
        ? vscode.window.showErrorMessage
        : ue.severity === 'warning'
          ? vscode.window.showWarningMessage
          : vscode.window.showInformationMessage;
    void Promise.resolve(show(ue.message, ...ue.actions)).then((choice) => this.runAction(choice, ue.settingsQuery));
  }

  showOutput(): void {
    this.log.show(true);
  }
}
