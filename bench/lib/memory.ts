// Memory of a process over a measured stretch: sampled peak RSS and heap, and the kernel's lifetime peak RSS.

export interface MemoryReport {
  /** RSS when sampling started (after imports and set-up), MiB. */
  baselineRssMiB: number;
  /** Highest RSS seen by the sampler, MiB. */
  peakRssMiB: number;
  /** Highest heapUsed seen by the sampler, MiB. */
  peakHeapUsedMiB: number;
  /** getrusage maxrss: the process's peak RSS over its whole life, which no sample can miss, MiB. */
  maxRssMiB: number;
  /** heapUsed after a full collection at the end (needs --expose-gc; else NaN): what the work left live, MiB. */
  retainedHeapMiB: number;
}

const MiB = 2 ** 20;

export interface MemorySampler {
  stop(): MemoryReport;
}

export function startMemorySampler(intervalMs = 10): MemorySampler {
  const first = process.memoryUsage();
  let peakRss = first.rss;
  let peakHeap = first.heapUsed;
  const sample = () => {
    const m = process.memoryUsage();
    if (m.rss > peakRss) peakRss = m.rss;
    if (m.heapUsed > peakHeap) peakHeap = m.heapUsed;
  };
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      sample();
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      return {
        retainedHeapMiB: gc ? process.memoryUsage().heapUsed / MiB : Number.NaN,
        baselineRssMiB: first.rss / MiB,
        peakRssMiB: peakRss / MiB,
        peakHeapUsedMiB: peakHeap / MiB,
        // maxRSS is in kilobytes.
        maxRssMiB: (process.resourceUsage().maxRSS * 1024) / MiB,
      };
    },
  };
}
