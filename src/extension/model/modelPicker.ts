/**
 * Select Model: the models shipped in `<extension>/models/<name>/model.onnx`, the configured custom one, and
 * "Browse…" for a folder. Writes `damoe.modelPath` in the user (global) settings: a model choice is the user's,
 * and an untrusted workspace's settings are ignored for it anyway.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { listShippedModels as shippedModelDirs } from '../../core';
import { readModelPathSetting } from './config';
import { DEFAULT_MODEL_NAME } from '../../shared/defaults';

export interface ShippedModel {
  name: string;
  dir: string;
}

/** The models shipped in `<extension>/models/`, the default first (the core's list, so the CLI sees the same). */
export function listShippedModels(extensionPath: string): ShippedModel[] {
  return shippedModelDirs(extensionPath).map((dir) => ({ name: path.basename(dir), dir }));
}

/** First non-heading line of a model card, for the quick pick's detail. */
function modelCardLine(dir: string): string | undefined {
  try {
    const text = fs.readFileSync(path.join(dir, 'README.md'), 'utf8').slice(0, 4000);
    return text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l && !l.startsWith('#') && !l.startsWith('---') && !l.startsWith('|'))
      ?.slice(0, 160);
  } catch {
    return undefined;
  }
}

interface ModelItem extends vscode.QuickPickItem {
  /** The value written to damoe.modelPath; undefined for Browse…. */
  value?: string;
}

/** Shows the picker; returns the value written, or undefined when the user cancelled. */
export async function pickModel(extensionPath: string): Promise<string | undefined> {
  const current = readModelPathSetting().value.trim();
  const shipped = listShippedModels(extensionPath);
  const items: ModelItem[] = shipped.map((m) => {
    // The default is stored as '' so it follows extension updates; other shipped models by bare name (an absolute
    // path into the extension folder would break when the extension updates).
    const value = m.name === DEFAULT_MODEL_NAME ? '' : m.name;
    const isCurrent = current === value || (value === '' && current === DEFAULT_MODEL_NAME);
    return {
      label: `${isCurrent ? '$(check) ' : ''}${m.name}`,
      description: m.name === DEFAULT_MODEL_NAME ? 'shipped · default' : 'shipped',
      detail: modelCardLine(m.dir),
      value,
    };
  });
  if (current && !shipped.some((m) => m.name === current)) {
    items.push({ label: `$(check) ${path.basename(current)}`, description: current, detail: 'current custom model', value: current });
  }
  items.push({
    label: '$(folder-opened) Browse…',
    description: 'a folder with model.onnx and tokenizer.json (see docs/model-contract.md)',
  });
  const picked = await vscode.window.showQuickPick(items, {
    title: 'DA-MoE: Select Model',
    placeHolder: 'Model to analyse routing with',
    matchOnDescription: true,
  });
  if (!picked) return undefined;
  let value = picked.value;
  if (value === undefined) {
    const folder = await vscode.window.showOpenDialog({
      canSelectFiles: false,
      canSelectFolders: true,
      canSelectMany: false,
      openLabel: 'Use This Model',
      title: 'Select a model folder (model.onnx + tokenizer.json)',
    });
    if (!folder?.[0]) return undefined;
    const dir = folder[0].fsPath;
    if (!fs.existsSync(path.join(dir, 'model.onnx'))) {
      const choice = await vscode.window.showWarningMessage(
        `DA-MoE: ${dir} has no model.onnx. A model folder holds model.onnx and tokenizer.json (see the model contract).`,
        'Choose Another Folder',
      );
      return choice ? pickModel(extensionPath) : undefined;
    }
    value = dir;
  }
  await vscode.workspace.getConfiguration('damoe').update('modelPath', value, vscode.ConfigurationTarget.Global);
  if (readModelPathSetting().fromWorkspace) {
    void vscode.window.showWarningMessage(
      'DA-MoE: this workspace sets “damoe.modelPath” itself, which overrides your choice here. Remove it from the workspace settings to use the model you picked.',
    );
  }
  return value;
}
