/**
 * Model files that are not regular files (issue 12): a FIFO as model.onnx used to hang `analyze` and `models`
 * forever (openSync on the main thread). Each case runs the real CLI with a time limit, so a hang fails the test.
 */
import { describe, it, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, execFileSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { createEngine } from '../../src/core/engine';
import { EngineError } from '../../src/core/engine-api';
import { checkRegularFile } from '../../src/core/model-files';
import { ROOT, SHIPPED_DAMOE_DIR } from '../unit/core/helpers';

const BIN = path.join(ROOT, 'bin', 'damoe.js');
const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Runs the CLI; a run that outlives `ms` is killed and reported as hung. */
function damoe(args: string[], ms = 30_000): Promise<{ code: number | null; stdout: string; stderr: string; hung: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, ms);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, hung });
    });
  });
}

/** A model directory with the shipped tokenizer and `make` creating model.onnx. */
function modelDir(make: (modelPath: string, dir: string) => void | Promise<void>): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'damoe-files-'));
  dirs.push(dir);
  fs.copyFileSync(path.join(SHIPPED_DAMOE_DIR, 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
  return Promise.resolve(make(path.join(dir, 'model.onnx'), dir)).then(() => dir);
}

const kinds: [string, RegExp, (p: string, dir: string) => void | Promise<void>][] = [
  [
    'a symbolic link to a FIFO',
    /model\.onnx \(a symbolic link to .*\) is a FIFO \(named pipe\), not a regular file/,
    (p, dir) => {
      execFileSync('mkfifo', [path.join(dir, 'f')]);
      fs.symlinkSync(path.join(dir, 'f'), p);
    },
  ],
  ['a FIFO', /model\.onnx is a FIFO \(named pipe\), not a regular file/, (p) => void execFileSync('mkfifo', [p])],
  ['a character device (/dev/zero)', /is a character device, not a regular file/, (p) => fs.symlinkSync('/dev/zero', p)],
  ['a directory', /model\.onnx is a directory, not a regular file/, (p) => fs.mkdirSync(p)],
  ['an empty file', /model\.onnx is empty \(0 bytes\)/, (p) => fs.writeFileSync(p, '')],
  [
    'a socket',
    /model\.onnx is a socket, not a regular file/,
    (p) =>
      new Promise<void>((resolve) => {
        const server = net.createServer().listen(p, () => {
          server.close(); // the socket file stays on disk
          resolve();
        });
      }),
  ],
];

describe('model files are checked before anything opens them', () => {
  for (const [name, message, make] of kinds) {
    it(`analyze with ${name} as model.onnx: refused at once, naming it (no hang)`, async () => {
      const dir = await modelDir(make);
      if (name === 'a socket' && !fs.existsSync(path.join(dir, 'model.onnx'))) return; // platform removed it
      const r = await damoe(['analyze', '--model', dir, '--provider', 'cpu', 'x']);
      assert.equal(r.hung, false, 'damoe analyze hung');
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /internal error|onnxruntime_src|\.cc:\d+/);
    });
  }

  it('models --model DIR with a FIFO: refused, no hang', async () => {
    const dir = await modelDir((p) => void execFileSync('mkfifo', [p]));
    const r = await damoe(['models', '--model', dir]);
    assert.equal(r.hung, false, 'damoe models hung');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /problem: model\.onnx: .*model\.onnx is a FIFO \(named pipe\), not a regular file/);
  });

  it('a FIFO as tokenizer.json is a contract violation naming it (no hang)', async () => {
    const dir = await modelDir((p) => fs.copyFileSync(path.join(SHIPPED_DAMOE_DIR, 'model.onnx'), p));
    fs.rmSync(path.join(dir, 'tokenizer.json'));
    execFileSync('mkfifo', [path.join(dir, 'tokenizer.json')]);
    const r = await damoe(['analyze', '--model', dir, '--provider', 'cpu', 'x']);
    assert.equal(r.hung, false, 'damoe analyze hung');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /tokenizer\.json is a FIFO \(named pipe\), not a regular file/);
  });

  it('the engine refuses a FIFO (asynchronous checks: the calling thread never blocks on it)', async () => {
    const dir = await modelDir((p) => void execFileSync('mkfifo', [p]));
    await assert.rejects(createEngine({ modelDir: dir, executionProvider: 'cpu', threads: 1 }), (e: Error) => {
      assert.ok(e instanceof EngineError && e.code === 'contract-violation', String(e));
      assert.match(
        e.message,
        /is a FIFO \(named pipe\), not a regular file\. A model directory's model\.onnx must be a non-empty regular file/,
      );
      return true;
    });
    const check = await checkRegularFile(path.join(dir, 'model.onnx'));
    assert.equal(check.kind, 'fifo');
  });
});
