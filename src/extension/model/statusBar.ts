/**
 * One status bar item: `model · provider · last latency`, or a spinner while an analysis runs. Clicking it opens
 * Select Model.
 */
import * as vscode from 'vscode';

export class RoutingStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private model = 'DA-MoE';
  private provider: string | null = null;
  private latencyMs: number | null = null;
  private running = false;

  constructor() {
    this.item = vscode.window.createStatusBarItem('damoe.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'DA-MoE Inspector';
    this.item.command = 'damoe.selectModel';
    this.render();
    this.item.show();
  }

  setModel(name: string, provider: string | null): void {
    this.model = name;
    this.provider = provider;
    this.render();
  }

  /** Forget the loaded engine (settings changed): the next run loads again. */
  resetModel(name: string): void {
    this.model = name;
    this.provider = null;
    this.latencyMs = null;
    this.render();
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
    this.render();
  }

  setRunning(running: boolean): void {
    this.running = running;
    this.render();
  }

  get text(): string {
    return this.item.text;
  }

  dispose(): void {
    this.item.dispose();
  }

  private render(): void {
    if (this.running) {
      this.item.text = '$(sync~spin) DA-MoE: analysing…';
      this.item.tooltip = 'DA-MoE Inspector is analysing the text. A new Analyze Routing cancels this run.';
      return;
    }
    const parts = [this.model];
    if (this.provider) parts.push(this.provider);
    if (this.latencyMs !== null) parts.push(`${Math.round(this.latencyMs)} ms`);
    this.item.text = `$(type-hierarchy) ${parts.join(' · ')}`;
    this.item.tooltip = new vscode.MarkdownString(
      `**DA-MoE Inspector**\n\nModel: ${this.model}\n\nExecution provider: ${this.provider ?? 'not loaded yet'}` +
        (this.latencyMs !== null ? `\n\nLast analysis: ${Math.round(this.latencyMs)} ms` : '') +
        '\n\nClick to select a model.',
    );
  }
}
