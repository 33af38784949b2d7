/**
 * The statistics of the research views: confidence intervals of an accuracy and of a paired accuracy difference,
 * McNemar's exact test, Spearman's rank correlation and lift. Pure functions, no I/O and no Node built-ins: the CLI,
 * the report builders and the webviews share them (src/shared). Callers that need randomness pass a seeded
 * generator (src/core/spotcheck/rng.ts), so every figure is reproducible.
 */

/** z of a two-sided 95% normal interval (the 0.975 quantile of the standard normal). */
export const Z95 = 1.959963984540054;

/**
 * Wilson score interval of a proportion `successes / n` (95% by default). Chosen over the normal ("Wald") interval
 * because it stays inside [0, 1] and keeps close to its nominal coverage for small n and for accuracies near 0 or 1
 * (Brown, Cai & DasGupta 2001); "80.0% on 20 examples" is exactly the case where Wald misleads. null when n is 0.
 */
export function wilsonInterval(successes: number, n: number, z: number = Z95): [number, number] | null {
  if (!(n > 0) || successes < 0 || successes > n) return null;
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // Clamp rounding noise at the ends (0/n and n/n give exactly 0 and 1 in exact arithmetic).
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** The q-quantile (0..1) of sorted values, interpolated linearly between order statistics (numpy's default). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export interface PairedBootstrap {
  /** mean(a) - mean(b) over the pairs. */
  difference: number;
  /** Percentile interval of the resampled differences (2.5% and 97.5% at 95%). */
  ci95: [number, number];
  resamples: number;
  n: number;
}

/**
 * Paired bootstrap of the difference of two accuracies on the same examples: `a[i]` and `b[i]` say whether model A
 * and model B got example i right. Each resample draws n examples with replacement, the same draw for both models
 * (the pairing), and takes mean(a) - mean(b); the interval is the resamples' percentiles. The same method as
 * training/compare.py's paired_bootstrap (which uses numpy's generator, so the draws, not the method, differ).
 * null when there are no pairs.
 */
export function pairedBootstrapDifference(
  a: readonly boolean[],
  b: readonly boolean[],
  options: { resamples: number; rng: () => number; level?: number },
): PairedBootstrap | null {
  if (a.length !== b.length) throw new RangeError(`paired samples differ in length: ${a.length} and ${b.length}`);
  const n = a.length;
  if (n === 0) return null;
  const resamples = Math.max(1, Math.floor(options.resamples));
  const d = new Int8Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    d[i] = (a[i] ? 1 : 0) - (b[i] ? 1 : 0);
    sum += d[i];
  }
  const boots = new Float64Array(resamples);
  const { rng } = options;
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += d[Math.floor(rng() * n)];
    boots[r] = s / n;
  }
  boots.sort();
  const alpha = 1 - (options.level ?? 0.95);
  return { difference: sum / n, ci95: [quantileSorted(boots, alpha / 2), quantileSorted(boots, 1 - alpha / 2)], resamples, n };
}

/**
 * McNemar's exact test of two classifiers on the same examples: two-sided binomial test of the discordant pairs.
 * `b` = examples only the first got right, `c` = only the second; under H0 each discordant pair goes either way with
 * probability 1/2, and p = min(1, 2 * P(X <= min(b, c))) for X ~ Binomial(b + c, 1/2). 1 when there is no discordant
 * pair. Summed in log space, so thousands of discordant pairs neither underflow nor lose precision.
 */
export function mcnemarExactP(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  // log P(X = i) = log C(n, i) + n log(1/2), built by the recurrence C(n, i) = C(n, i-1) (n - i + 1) / i.
  let logTerm = n * Math.log(0.5);
  let maxLog = logTerm;
  const logs: number[] = [logTerm];
  for (let i = 1; i <= k; i++) {
    logTerm += Math.log((n - i + 1) / i);
    logs.push(logTerm);
    if (logTerm > maxLog) maxLog = logTerm;
  }
  let s = 0;
  for (const l of logs) s += Math.exp(l - maxLog);
  return Math.min(1, 2 * Math.exp(maxLog) * s);
}

/** Ranks 1..n with ties given the average of the ranks they span (as scipy.stats.rankdata's default). */
export function averageRanks(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => x[i] - x[j] || i - j);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && x[order[j + 1]] === x[order[i]]) j++;
    const r = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) ranks[order[t]] = r;
    i = j + 1;
  }
  return ranks;
}

/** Pearson's correlation; null when either side is constant or there are fewer than 2 points. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number | null {
  const n = x.length;
  if (n !== y.length) throw new RangeError(`correlated samples differ in length: ${n} and ${y.length}`);
  if (n < 2) return null;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return null;
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/**
 * Spearman's rank correlation: Pearson's correlation of the average ranks (ties share their mean rank), as
 * training/damoe/importance_check.py computes it. null (not NaN: the JSON has no NaN) when a side is constant.
 */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number | null {
  if (x.length !== y.length) throw new RangeError(`correlated samples differ in length: ${x.length} and ${y.length}`);
  return pearson(averageRanks(x), averageRanks(y));
}

/**
 * Lift of a token for an expert: its share of the expert's assignments divided by its share of all tokens,
 * (inExpert / expertTotal) / (overall / total). 1 = the expert gets the token as often as chance would; 3 = three
 * times as often. null when a denominator is 0.
 */
export function lift(inExpert: number, expertTotal: number, overall: number, total: number): number | null {
  if (!(expertTotal > 0) || !(overall > 0) || !(total > 0)) return null;
  return inExpert / expertTotal / (overall / total);
}

/** "78.3% [75.1, 81.2]": a share in percent with its interval in percentage points (one decimal). */
export function formatPercentWithCi(value: number, ci: readonly [number, number] | null, digits = 1): string {
  const p = (x: number): string => (100 * x).toFixed(digits);
  return ci ? `${p(value)}% [${p(ci[0])}, ${p(ci[1])}]` : `${p(value)}%`;
}

/** An accuracy with its Wilson 95% interval: "80.0% [58.4, 91.9] (16 of 20)". */
export function formatAccuracy(correct: number, n: number, digits = 1): string {
  if (!(n > 0)) return 'n/a';
  return `${formatPercentWithCi(correct / n, wilsonInterval(correct, n), digits)} (${correct} of ${n})`;
}

/** A difference of shares in percentage points with its interval: "-0.4 pts [-1.6, +0.9]". */
export function formatPointsWithCi(value: number, ci: readonly [number, number] | null, digits = 1): string {
  const p = (x: number): string => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(digits)}`;
  return ci ? `${p(value)} pts [${p(ci[0])}, ${p(ci[1])}]` : `${p(value)} pts`;
}

/** A p-value for people: "p = 0.031", "p = 0.62", "p < 0.001". */
export function formatP(p: number): string {
  if (p < 0.001) return 'p < 0.001';
  return `p = ${p < 0.1 ? p.toFixed(3) : p.toFixed(2)}`;
}

/**
 * Co-activation as conditional probabilities: p[i][j] = P(expert j also chosen | expert i chosen) = tokens routed to
 * both / tokens routed to i, from counts co[i][j] (diagonal: tokens routed to i). The diagonal (always 1) is null, so
 * it cannot dominate a colour scale; a row whose expert got no token is all null.
 */
export function conditionalCoActivation(co: readonly (readonly number[])[]): (number | null)[][] {
  return co.map((row, i) =>
    row.map((v, j) => {
      const given = co[i][i];
      return i === j || !(given > 0) ? null : v / given;
    }),
  );
}

/**
 * 95% interval of a Spearman rho over n pairs (by default): Fisher's z = atanh(rho) is about normal with variance
 * 1.06 / (n - 3) (Fieller, Hartley & Pearson 1957), back-transformed with tanh. null when n < 4 or rho is null;
 * |rho| = 1 gives [rho, rho].
 */
export function spearmanInterval(rho: number | null, n: number, z: number = Z95): [number, number] | null {
  if (rho === null || !Number.isFinite(rho) || !(n >= 4)) return null;
  if (Math.abs(rho) >= 1) return [rho, rho];
  const half = z * Math.sqrt(1.06 / (n - 3));
  const centre = Math.atanh(rho);
  return [Math.tanh(centre - half), Math.tanh(centre + half)];
}

/**
 * How a part's mix over categories differs from the whole's (e.g. a group's expert assignments against the whole
 * sample's): share_i(part) - share_i(whole) for each category, in [-1, 1]. A total of 0 counts as an all-zero mix.
 */
export function shareDifferences(part: readonly number[], whole: readonly number[]): number[] {
  const sum = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0);
  const p = sum(part);
  const w = sum(whole);
  return whole.map((x, i) => (p > 0 ? (part[i] ?? 0) / p : 0) - (w > 0 ? x / w : 0));
}

/**
 * Total variation distance between two mixes: half the sum of |shareDifferences|, the share of the part's
 * assignments that would have to move to other categories to match the whole (0 = the same mix, 1 = disjoint).
 */
export function totalVariation(part: readonly number[], whole: readonly number[]): number {
  return shareDifferences(part, whole).reduce((s, d) => s + Math.abs(d), 0) / 2;
}
