/**
 * The error UI: a UserError (errorsLogic.ts, pure) goes to the log with its details and to a notification whose
 * buttons do what they say (Show Output, Select Model, Open Settings), or, while its panel (routing, spot-check,
 * compare) is in view, to that panel's error banner with the same buttons (showOnce; the banner's buttons come back
 * through runAction): one error is shown once.
 */
import * as vscode from 'vscode';
import { showErrorOnce, type ErrorBannerPanel, type UserError } from './errorsLogic';

export class ErrorReporter {
  constructor(private readonly log: vscode.LogOutputChannel) {}

  /** The log only: the error is shown elsewhere (a panel's banner, with the same buttons). */
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

  /** The error once: in `panel`'s banner while the panel is in view, else as a notification (errorsLogic.ts). */
  showOnce(ue: UserError, panel: ErrorBannerPanel | null): 'banner' | 'notification' {
    return showErrorOnce(ue, panel, { log: (u) => this.logOnly(u), notify: (u) => this.notify(u) });
  }

  /** In the banner of a panel just opened for it (a refused trace), with its buttons; and the log. */
  showInPanel(ue: UserError, banner: NonNullable<ErrorBannerPanel['controller']>): void {
    this.logOnly(ue);
    banner.showError(ue.message, ue.actions, ue.settingsQuery);
  }

  /** A notification (and the log), for errors that belong to no panel. */
  report(ue: UserError): void {
    this.logOnly(ue);
    this.notify(ue);
  }

  private notify(ue: UserError): void {
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
