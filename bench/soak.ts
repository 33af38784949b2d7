/**
 * Soak benchmark of the engine (not a timed test): many requests against one engine, the way the extension host
 * uses it, watching memory and counting every rejection by its code.
 *
 *   1. 10,000 short requests one after another;
 *   2. latest-wins bursts: 200 bursts of 10 requests, each new request aborting the one before (as LatestWins does);
 *   3. 200 texts of about 4,000 tokens (windowed).
 *
 * Prints the RSS of the host (this process) and of the model worker at start, peak and end, sampled every 250 ms.
 *
 * Usage: npm run build && node out/bench/soak.js [--requests N --bursts N --long N --model DIR]
 */
import * as fs from 'fs';
import { parseArgs } from 'util';
import { createEngine } from '../src/core/engine';
import { EngineError } from '../src/core/engine-api';

const MB = 1024 * 1024;

function workerRss(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

interface Memory {
  start: number;
  peak: number;
  end: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '10000' },
      bursts: { type: 'string', default: '200' },
      long: { type: 'string', default: '200' },
      model: { type: 'string' },
    },
  });
  const engine = await createEngine({ modelDir: values.model, executionProvider: 'cpu', threads: 1 });
  const host: Memory = { start: process.memoryUsage().rss, peak: 0, end: 0 };
  const worker: Memory = { start: workerRss(engine.workerPid), peak: 0, end: 0 };
  const sample = (): void => {
    host.peak = Math.max(host.peak, process.memoryUsage().rss);
    worker.peak = Math.max(worker.peak, workerRss(engine.workerPid));
  };
  const timer = setInterval(sample, 250);
  const rejections = new Map<string, number>();
  const reject = (e: unknown): void => {
    const code = e instanceof EngineError ? e.code : 'unexpected';
    rejections.set(code, (rejections.get(code) ?? 0) + 1);
  };
  const words = 'the film is a gorgeous , witty and moving portrait of grief but the second half drags badly'.split(' ');
  const text = (n: number, seed: number): string => Array.from({ length: n }, (_, i) => words[(i * 7 + seed) % words.length]).join(' ');
  const phases: string[] = [];
  const time = async (name: string, fn: () => Promise<number>): Promise<void> => {
    const t0 = performance.now();
    const done = await fn();
    const s = (performance.now() - t0) / 1000;
    phases.push(`${name}: ${done} done in ${s.toFixed(1)} s (${(done / s).toFixed(1)}/s)`);
  };

  await time(`${values.requests} sequential requests`, async () => {
    let ok = 0;
    for (let i = 0; i < Number(values.requests); i++) {
      try {
        await engine.analyze({ text: text(8 + (i % 24), i) });
        ok++;
      } catch (e) {
        reject(e);
      }
    }
    return ok;
  });
  await time(`${values.bursts} latest-wins bursts of 10`, async () => {
    let ok = 0;
    for (let b = 0; b < Number(values.bursts); b++) {
      let previous: AbortController | null = null;
      const runs: Promise<unknown>[] = [];
      for (let i = 0; i < 10; i++) {
        previous?.abort();
        const ac = new AbortController();
        previous = ac;
        runs.push(engine.analyze({ text: text(20 + i, b * 10 + i), signal: ac.signal }).then(() => ok++, reject));
      }
      await Promise.all(runs);
    }
    return ok;
  });
  await time(`${values.long} texts of ~4k tokens`, async () => {
    let ok = 0;
    for (let i = 0; i < Number(values.long); i++) {
      try {
        const a = await engine.analyze({ text: text(3900, i) });
        if (a.tokens.length < 3500) throw new Error(`only ${a.tokens.length} tokens`);
        ok++;
      } catch (e) {
        reject(e);
      }
    }
    return ok;
  });
  sample();
  clearInterval(timer);
  host.end = process.memoryUsage().rss;
  worker.end = workerRss(engine.workerPid);
  const mb = (m: Memory): string =>
    `start ${(m.start / MB).toFixed(0)} MB, peak ${(m.peak / MB).toFixed(0)} MB, end ${(m.end / MB).toFixed(0)} MB`;
  console.log(phases.join('\n'));
  console.log(`host RSS:   ${mb(host)}`);
  console.log(`worker RSS: ${mb(worker)}`);
  console.log(`rejections: ${[...rejections].map(([c, n]) => `${c} ${n}`).join(', ') || 'none'}`);
  console.log(`worker restarts: ${engine.workerRestarts}`);
  await engine.dispose();
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
