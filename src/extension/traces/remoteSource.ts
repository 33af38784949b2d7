/**
 * The live source in VS Code: with `damoe.remote.url` set, Analyze Routing sends the selection to that vLLM or SGLang
 * server (src/core/remote, max_tokens 1) and shows the routing it recorded for the prompt tokens. The API key lives
 * in VS Code's SecretStorage, one per server origin (DA-MoE: Set Remote API Key / Clear Remote API Key), never in
 * settings.
 *
 * Networking: src/core/remote uses Node's http/https modules. The extension host hands every extension patched
 * copies of them (VS Code's proxy resolver), so the request follows `http.proxy`, `http.proxySupport`,
 * `http.noProxy` and the OS certificate store (`http.systemCertificates`) as VS Code's own Node requests do; nothing
 * here configures a proxy or certificates (docs/routing-traces.md says what was and was not tested).
 */
import * as vscode from 'vscode';
import { EngineError, openTraceReader, remoteAnalysis, type TraceReader } from '../../core';
import type { Analysis } from '../../shared/analysis';
import { resolveModelDir } from '../model/configLogic';
import { readRemoteSettings, readTraceTokenizerSetting } from './traceSettings';
import { apiKeySecretName, VSCODE_REMOTE_HINTS, type RemoteSettings } from './traceSettingsLogic';

export class RemoteSource {
  private reader: { path: string; reader: Promise<TraceReader> } | null = null;

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly extensionPath: string,
  ) {}

  /** The settings when Analyze Routing should ask a server, else null. */
  settings(): RemoteSettings | null {
    return readRemoteSettings();
  }

  /** The served model's tokenizer: damoe.trace.tokenizer, else the shipped default model's. */
  tokenizerPath(): string {
    return readTraceTokenizerSetting(this.extensionPath) ?? resolveModelDir('', { extensionPath: this.extensionPath });
  }

  private async traceReader(): Promise<TraceReader> {
    const dir = this.tokenizerPath();
    if (this.reader?.path !== dir) {
      const reader = openTraceReader({ tokenizer: dir });
      this.reader = { path: dir, reader };
      reader.catch(() => {
        if (this.reader?.reader === reader) this.reader = null;
      });
    }
    return this.reader.reader;
  }

  async analyze(text: string, s: RemoteSettings, signal: AbortSignal): Promise<Analysis> {
    const reader = await this.traceReader();
    if (reader.config.numExperts === undefined) {
      // Refused before anything is sent: the answer could not be checked.
      throw new EngineError(
        'bad-trace',
        `num_experts is unknown: ${this.tokenizerPath()} has no config.json (num_experts, num_local_experts or n_routed_experts). ` +
          "Set damoe.trace.tokenizer to the served model's folder (tokenizer.json and config.json)",
      );
    }
    const name = apiKeySecretName(s.url);
    const apiKey = name ? await this.secrets.get(name) : undefined;
    return remoteAnalysis(reader, text, {
      url: s.url,
      kind: s.kind,
      timeoutSeconds: s.timeoutSeconds,
      signal,
      hints: VSCODE_REMOTE_HINTS,
      ...(s.model ? { model: s.model } : {}),
      ...(apiKey ? { apiKey } : {}),
    });
  }

  /** DA-MoE: Set Remote API Key: for the server of damoe.remote.url (or one typed in), kept in SecretStorage. */
  async setApiKey(): Promise<'set' | 'cancelled' | 'no-url'> {
    const name = await this.secretNameForCommand('set');
    if (!name) return 'no-url';
    const origin = name.slice(name.indexOf(':') + 1);
    const key = await vscode.window.showInputBox({
      title: `DA-MoE: API key for ${origin}`,
      prompt: 'Sent as "Authorization: Bearer KEY" to this server only; kept in VS Code’s secret storage, never in settings',
      password: true,
      ignoreFocusOut: true,
      validateInput: (t) => (t.trim() === '' ? 'Enter the key (or press Escape)' : /\s/.test(t.trim()) ? 'A key has no spaces' : undefined),
    });
    if (key === undefined) return 'cancelled';
    await this.secrets.store(name, key.trim());
    vscode.window.setStatusBarMessage(`DA-MoE: API key for ${origin} saved`, 5000);
    return 'set';
  }

  async clearApiKey(): Promise<'cleared' | 'none' | 'no-url'> {
    const name = await this.secretNameForCommand('clear');
    if (!name) return 'no-url';
    const had = (await this.secrets.get(name)) !== undefined;
    await this.secrets.delete(name);
    const origin = name.slice(name.indexOf(':') + 1);
    void vscode.window.showInformationMessage(
      had ? `DA-MoE: the API key for ${origin} was removed.` : `DA-MoE: no API key was stored for ${origin}.`,
    );
    return had ? 'cleared' : 'none';
  }

  private async secretNameForCommand(what: 'set' | 'clear'): Promise<string | null> {
    const url =
      this.settings()?.url ??
      (await vscode.window.showInputBox({
        title: `DA-MoE: ${what === 'set' ? 'set' : 'clear'} the API key of which server?`,
        prompt: 'damoe.remote.url is not set: the server URL, e.g. http://gpu-box:8000',
        ignoreFocusOut: true,
        validateInput: (t) => (apiKeySecretName(t.trim()) ? undefined : 'Enter an http:// or https:// URL'),
      }));
    if (url === undefined) return null;
    const name = apiKeySecretName(url.trim());
    if (!name) {
      void vscode.window.showErrorMessage(`DA-MoE: damoe.remote.url ${JSON.stringify(url)} is not an http:// or https:// URL.`);
      return null;
    }
    return name;
  }
}
