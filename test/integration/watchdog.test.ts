/**
 * The worker watchdog and restart budget against real worker processes and the real onnxruntime-node (issue 12):
 * a stopped worker (SIGSTOP) used to leave its request pending forever; a long honest run must keep beating; four
 * crashes in a row used to disable a runtime for good; crash reports carried stale, coloured stderr; many requests
 * on one signal leaked abort listeners.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'child_process';
import * as path from 'path';
import { createEngine } from '../../src/core/engine';
import { EngineError } from '../../src/core/engine-api';
import { ModelRuntime, plainLine } from '../../src/core/runtime/model-runtime';
import { int64Tensor } from '../../src/core/runtime/tensors';
import { isAlive, ROOT, SHIPPED_DAMOE_DIR, TINY_MODEL_DIR, waitFor } from '../unit/core/helpers';

const TINY = path.join(TINY_MODEL_DIR, 'model.onnx');
const SHIPPED = path.join(SHIPPED_DAMOE_DIR, 'model.onnx');
const isCode = (code: string) => (e: unknown) => e instanceof EngineError && e.code === code;

function feeds(rows: number, length: number) {
  const ids = Array.from({ length: rows * length }, (_, i) => (i % length === 0 ? 2 : i % length === length - 1 ? 3 : 1000 + (i % 50)));
  return {
    input_ids: int64Tensor(ids, [rows, length]),
    attention_mask: int64Tensor(new Array<number>(rows * length).fill(1), [rows, length]),
  };
}

function resume(pid: number): void {
  try {
    process.kill(pid, 'SIGCONT');
  } catch {
    /* gone */
  }
}

describe('watchdog', () => {
  it('a stopped worker (SIGSTOP) mid-request: the request fails with worker-unresponsive, the worker is replaced', async () => {
    const rt = await ModelRuntime.start({ modelPath: SHIPPED, provider: 'cpu', threads: 1, workerTimeoutMs: 4000 });
    try {
      const stopped = rt.pid!;
      const started = Date.now();
      const request = rt.run(feeds(16, 512));
      process.kill(stopped, 'SIGSTOP');
      try {
        await assert.rejects(request, (e: Error) => {
          assert.ok(isCode('worker-unresponsive')(e), String(e));
          assert.match(
            e.message,
            /sent no sign of life for 4 s while running a request, so it was stopped and is being restarted\. Run the request again/,
          );
          assert.match(e.message, /damoe\.workerTimeoutSeconds \(CLI: --worker-timeout\)/);
          return true;
        });
      } finally {
        resume(stopped);
      }
      const waited = Date.now() - started;
      assert.ok(waited < 30_000, `took ${waited} ms to give up`);
      assert.ok(await waitFor(() => !isAlive(stopped)), `stopped worker ${stopped} was not killed`);
      const out = await rt.run(feeds(1, 8));
      assert.ok(out.logits, 'the replacement worker runs');
      assert.notEqual(rt.pid, stopped);
      assert.equal(rt.restarts, 1);
    } finally {
      await rt.dispose();
    }
  });

  it('a long, honest model run keeps beating: heartbeats arrive while onnxruntime runs, the worker is kept', async () => {
    const rt = await ModelRuntime.start({ modelPath: SHIPPED, provider: 'cpu', threads: 1, heartbeatMs: 100 });
    try {
      const pid = rt.pid;
      const before = rt.heartbeats;
      const t0 = Date.now();
      // Three 16 x 512 batches back to back: seconds of onnxruntime time on one thread.
      await Promise.all([rt.run(feeds(16, 512)), rt.run(feeds(16, 512)), rt.run(feeds(16, 512))]);
      const ms = Date.now() - t0;
      const beats = rt.heartbeats - before;
      assert.ok(ms > 500, `the run took only ${ms} ms; it does not test the heartbeat`);
      // onnxruntime-node runs a model synchronously on its calling thread: without the session thread, none arrive.
      assert.ok(beats >= Math.floor(ms / 100 / 4), `${beats} heartbeats in a ${ms} ms run`);
      assert.equal(rt.pid, pid, 'the worker was replaced during an honest run');
      assert.equal(rt.restarts, 0);
    } finally {
      await rt.dispose();
    }
  });

  it('the engine and the CLI: analyze with a stopped worker ends with worker-unresponsive (exit 1), never hangs', async () => {
    const engine = await createEngine({ modelDir: SHIPPED_DAMOE_DIR, executionProvider: 'cpu', threads: 1, workerTimeoutSeconds: 4 });
    try {
      const text = 'the movie was incredibly inspiring , but the ending felt rushed . '.repeat(400);
      const pending = engine.analyze({ text });
      const pid = engine.workerPid!;
      process.kill(pid, 'SIGSTOP');
      try {
        await assert.rejects(pending, isCode('worker-unresponsive'));
      } finally {
        resume(pid);
      }
      assert.equal((await engine.analyze({ text: 'works again' })).text, 'works again');
    } finally {
      await engine.dispose();
    }

    const cli = spawn(
      process.execPath,
      [path.join(ROOT, 'bin', 'damoe.js'), 'analyze', '--provider', 'cpu', '--threads', '1', '--worker-timeout', '4', '-'],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let stderr = '';
    cli.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    cli.stdout.resume();
    cli.stdin.end('the movie was incredibly inspiring , but the ending felt rushed . '.repeat(20000));
    const exited = new Promise<number | null>((resolve) => cli.on('exit', (code) => resolve(code)));
    // The CLI's model worker: its only child that runs worker.js.
    let worker: number | undefined;
    assert.ok(
      await waitFor(() => {
        let out = '';
        try {
          out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(cli.pid)], { encoding: 'utf8' });
        } catch {
          // ps exits 1 while the CLI has no child yet
        }
        const line = out.split('\n').find((l) => /worker\.js/.test(l));
        worker = line ? Number(line.trim().split(/\s+/)[0]) : undefined;
        return worker !== undefined;
      }, 20_000),
      'the CLI started no model worker',
    );
    // Stop the worker while it loads the model or runs the long text: either way the CLI must end with the watchdog's
    // message, not hang.
    await new Promise((r) => setTimeout(r, 500));
    process.kill(worker!, 'SIGSTOP');
    const timer = setTimeout(() => cli.kill('SIGKILL'), 120_000);
    const code = await exited;
    clearTimeout(timer);
    resume(worker!);
    assert.equal(code, 1, stderr);
    assert.match(stderr, /damoe: The model worker \(pid \d+\) sent no sign of life for 4 s/);
  });
});

describe('restart budget', () => {
  it('resets after a success: crashes with successful runs between them never disable the runtime', async () => {
    const rt = await ModelRuntime.start({ modelPath: TINY, provider: 'cpu', threads: 1, maxConsecutiveRestarts: 1 });
    try {
      for (let i = 0; i < 4; i++) {
        const pid = rt.pid!;
        const lost = rt.run(feeds(1, 8));
        process.kill(pid, 'SIGKILL');
        await assert.rejects(lost, isCode('worker-crashed'));
        assert.ok((await rt.run(feeds(1, 8))).logits, `run after crash ${i + 1}`);
      }
      assert.equal(rt.restarts, 4);
    } finally {
      await rt.dispose();
    }
  });

  it('crashes in a row exhaust it, and a later request still makes a fresh attempt (not disabled for good)', async () => {
    const rt = await ModelRuntime.start({ modelPath: TINY, provider: 'cpu', threads: 1, maxConsecutiveRestarts: 1 });
    try {
      for (let i = 0; i < 2; i++) {
        const pid = rt.pid!;
        process.kill(pid, 'SIGKILL');
        assert.ok(await waitFor(() => !isAlive(pid) && (i === 1 || (rt.pid !== undefined && rt.pid !== pid)), 10_000));
      }
      await new Promise((r) => setTimeout(r, 200));
      assert.ok((await rt.run(feeds(1, 8))).logits, 'a request after the budget ran out starts the worker again');
    } finally {
      await rt.dispose();
    }
  });
});

describe('crash reports and listeners', () => {
  it("a crash report carries only the crashed run's stderr, without ANSI codes or the provider probes", async () => {
    const rt = await ModelRuntime.start({
      modelPath: TINY,
      provider: 'auto',
      workerPath: path.join(__dirname, 'support', 'crashing-worker.js'),
    });
    try {
      await assert.rejects(rt.run(feeds(1, 4)), (e: Error) => {
        assert.ok(isCode('worker-crashed')(e), String(e));
        assert.deepEqual((e as EngineError).details, ['terminate called: the crashed run said this']);
        assert.doesNotMatch(e.message, /being restarted\. Try again/);
        return true;
      });
    } finally {
      await rt.dispose();
    }
    assert.equal(plainLine('\u001b[1;31mred\u001b[0m text\r'), 'red text');
  });

  it('many concurrent requests on one signal add one abort listener (no MaxListenersExceededWarning)', async () => {
    const rt = await ModelRuntime.start({ modelPath: TINY, provider: 'cpu', threads: 1 });
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const ac = new AbortController();
      await Promise.all(Array.from({ length: 40 }, () => rt.run(feeds(1, 8), { signal: ac.signal })));
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(
        warnings.filter((w) => /MaxListeners/.test(w)),
        [],
      );
      // and cancelling still reaches every request that shares the signal
      const ac2 = new AbortController();
      const runs = Array.from({ length: 20 }, () => rt.run(feeds(1, 8), { signal: ac2.signal }));
      ac2.abort();
      const settled = await Promise.allSettled(runs);
      assert.ok(settled.every((s) => s.status === 'rejected' && isCode('cancelled')(s.reason)));
    } finally {
      process.off('warning', onWarning);
      await rt.dispose();
    }
  });
});
