/** RSS while checking 1,000,000 distinct resources: it must level off once the decision cache is full. */
import { startChild } from './child.js';
import type { MemorySample } from './memory-process.js';

export interface MemoryResult {
  total: number;
  allowed: number;
  seconds: number;
  gcExposed: boolean;
  samples: MemorySample[];
  /**
   * Trend once the cache is full (10 000 entries, long before the first sample): the highest
   * sample of the second half of the run over the highest of the first half. RSS moves within a
   * band (the GC's young generation, allocator pages kept for reuse), so single samples are noise.
   */
  rssGrowthMB: number;
  heapGrowthMB: number;
  flat: boolean;
}

/** Growth allowed after the cache is full (allocator noise, JIT code, lazily grown tables). */
export const FLAT_RSS_MB = 16;
export const FLAT_HEAP_MB = 4;

export async function measureMemory(total: number, every: number): Promise<MemoryResult> {
  const child = startChild('./memory-process.ts', ['--expose-gc']);
  try {
    const run = await child.request<Omit<MemoryResult, 'rssGrowthMB' | 'heapGrowthMB' | 'flat'>>({ type: 'run', total, every, batch: 1000 });
    // samples[0] is before any check; every later one is taken with the cache full.
    const filled = run.samples.slice(1);
    const half = Math.ceil(filled.length / 2);
    const growth = (of: (sample: MemorySample) => number) =>
      Math.max(...filled.slice(half).map(of)) - Math.max(...filled.slice(0, half).map(of));
    const rssGrowthMB = growth((sample) => sample.rssMB);
    const heapGrowthMB = growth((sample) => sample.heapUsedMB);
    return { ...run, rssGrowthMB, heapGrowthMB, flat: rssGrowthMB < FLAT_RSS_MB && heapGrowthMB < FLAT_HEAP_MB };
  } finally {
    await child.stop();
  }
}
