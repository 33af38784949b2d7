/**
 * The PyTorch latency peer as a long-lived /usr/bin/python3 process (bench/torch_latency.py's line protocol), so
 * that the latency bench can interleave blocks of PyTorch runs with blocks of engine runs in one run: a load spike
 * on this shared machine then hits both sides instead of whichever happened to run at that moment.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'child_process';
import * as path from 'path';
import * as readline from 'readline';
import type { GemmRate } from './compute-limit';
import { torchRequest, type TorchSource } from './shipped-weights';

export interface TorchTimes {
  ms: number[];
  probabilities: number[];
  expert_count: number[][];
}

export class TorchPeer {
  private readonly waiting: ((line: string) => void)[] = [];
  private stderr = '';
  private closed = false;
  /** torch's version and its intra-op threads, as the peer reported them. */
  torch = '?';
  threads = 0;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {}

  /** Starts the peer on `threads` threads (OpenBLAS's pool held to the same), or says why it cannot. */
  static async start(root: string, source: TorchSource, threads: number): Promise<TorchPeer | { reason: string }> {
    const env = { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
    const child = spawn('/usr/bin/python3', [path.join(root, 'bench', 'torch_latency.py')], { env });
    const peer = new TorchPeer(child);
    const lines = readline.createInterface({ input: child.stdout });
    lines.on('line', (line) => peer.waiting.shift()?.(line));
    child.stderr.on('data', (d: Buffer) => (peer.stderr = (peer.stderr + d.toString()).slice(-4000)));
    const exited = new Promise<string>((resolve) => {
      child.on('error', (e) => resolve(`cannot run /usr/bin/python3: ${e.message}`));
      child.on('close', () => {
        peer.closed = true;
        resolve(`the PyTorch script exited: ${peer.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      });
    });
    const first = await Promise.race([peer.request({ ...torchRequest(source), threads }), exited]);
    if (typeof first === 'string') return { reason: first };
    const hello = first as { ok: boolean; reason?: string; torch?: string; threads?: number };
    if (!hello.ok) {
      child.stdin.end();
      return { reason: hello.reason ?? 'the PyTorch peer did not start' };
    }
    peer.torch = hello.torch ?? '?';
    peer.threads = hello.threads ?? threads;
    return peer;
  }

  private request(msg: Record<string, unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('the PyTorch peer has exited'));
      this.waiting.push((line) => {
        try {
          resolve(JSON.parse(line));
        } catch {
          reject(new Error(`the PyTorch peer wrote ${line.slice(0, 200)}`));
        }
      });
      this.child.stdin.write(`${JSON.stringify(msg)}\n`);
    });
  }

  /** `iters` timed forward passes of batch 1 on `ids` after `warmup` untimed ones. */
  time(ids: readonly number[], iters: number, warmup: number): Promise<TorchTimes> {
    return this.request({ op: 'time', ids, iters, warmup }) as Promise<TorchTimes>;
  }

  /** torch.mm's rate on n x n x n float32, best of `reps`. */
  gemm(n: number, reps: number): Promise<GemmRate> {
    return this.request({ op: 'gemm', n, reps }) as Promise<GemmRate>;
  }

  close(): void {
    this.child.stdin.end();
  }
}
