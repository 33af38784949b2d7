// Sanity checks of the extension-host test set-up itself (runs in the extension host, via runner.ts).
import * as assert from 'assert';
import { describe, it } from 'mocha';
import * as vscode from 'vscode';

describe('e2e harness: extension host', () => {
  it('has the vscode API and a Node runtime', () => {
    assert.ok(typeof vscode.version === 'string' && vscode.version.length > 0);
    assert.ok(typeof process.versions.node === 'string');
  });

  it('opened a workspace folder', () => {
    assert.ok((vscode.workspace.workspaceFolders?.length ?? 0) > 0, 'no workspace folder open');
  });

  it('receives the environment of the launcher (E2E_RESULT_FILE)', () => {
    assert.ok(process.env.E2E_RESULT_FILE, 'E2E_RESULT_FILE did not reach the extension host');
  });
});
