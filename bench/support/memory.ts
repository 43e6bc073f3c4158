/**
 * @module bench/support/memory — peak resident set size of this process while something runs,
 * sampled every 50 ms (plus once at the start and the end, so short runs are not missed).
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
  const sample = (): void => {
    const usage = process.memoryUsage()
    samples++
    if (usage.rss > peakRss) peakRss = usage.rss
    if (usage.heapUsed > peakHeapUsed) peakHeapUsed = usage.heapUsed
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
