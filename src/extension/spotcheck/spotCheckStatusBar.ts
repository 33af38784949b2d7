/**
 * The spot-check's status bar item: the last report's headline (accuracy with its 95% CI, examples, mean K) in a
 * short text, every other figure in the tooltip (spotCheckStatus in spotCheckLogic.ts); a click shows the report.
 * Hidden while a run goes and once the report's panel is closed.
 */
import * as vscode from 'vscode';
import type { SpotCheckReport } from '../../shared/spotcheck-report';
import { spotCheckStatus } from './spotCheckLogic';

export class SpotCheckStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;

  /** `command`: what a click runs (shows the report). */
  constructor(command: string) {
    // Just left of the model item (priority 100), so the two read together.
    this.item = vscode.window.createStatusBarItem('damoe.spotCheckStatus', vscode.StatusBarAlignment.Right, 99);
    this.item.name = 'DA-MoE Spot-Check';
    this.item.command = command;
  }

  show(report: SpotCheckReport): void {
    const s = spotCheckStatus(report);
    this.item.text = s.text;
    const md = new vscode.MarkdownString();
    md.appendMarkdown('**');
    md.appendText(s.title);
    md.appendMarkdown('**\n\n');
    for (const line of s.lines) {
      md.appendText(line);
      md.appendMarkdown('\n\n');
    }
    this.item.tooltip = md;
    this.item.accessibilityInformation = { label: [s.title, ...s.lines].join(' '), role: 'button' };
    this.item.show();
  }

  hide(): void {
    this.item.hide();
  }

  get text(): string {
    return this.item.text;
  }

  dispose(): void {
    this.item.dispose();
  }
}
