/**
 * @module bench/support/memory — peak resident set size of this process while something runs,
 * sampled every 50 ms (plus once at the start and the end, so short runs are not missed), and
 * its peak heap used every tenth sample.
 */

/** Megabytes (MiB) from bytes, one decimal. */
export const mib = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10

/** Runs `work` and samples `process.memoryUsage.rss()` every `everyMs` meanwhile. */
export const withRssSampling = async <A>(
  work: () => Promise<A>,
  everyMs = 50
): Promise<{
  readonly value: A
  readonly peakRss: number
  readonly startRss: number
  readonly peakHeapUsed: number
  readonly samples: number
  /** User + system CPU time of this process meanwhile, ms. */
  readonly cpuMillis: number
}> => {
  const startRss = process.memoryUsage.rss()
  const startCpu = process.cpuUsage()
  let peakRss = startRss
  let peakHeapUsed = process.memoryUsage().heapUsed
  let samples = 1
  // process.memoryUsage() walks the heap's spaces (about 0.3 ms a call): every tenth sample only,
  // so the sampling costs the measured run next to nothing; the RSS alone is cheap.
  const sample = (): void => {
    samples++
    const rss = process.memoryUsage.rss()
    if (rss > peakRss) peakRss = rss
    if (samples % 10 === 0) {
      const heapUsed = process.memoryUsage().heapUsed
      if (heapUsed > peakHeapUsed) peakHeapUsed = heapUsed
    }
  }
  const timer = setInterval(sample, everyMs)
  try {
    const value = await work()
    sample()
    const cpu = process.cpuUsage(startCpu)
    return { value, peakRss, startRss, peakHeapUsed, samples, cpuMillis: (cpu.user + cpu.system) / 1000 }
  } finally {
    clearInterval(timer)
  }
}
