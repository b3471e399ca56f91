/** Load generation (autocannon, in the parent process) and a sequential latency probe. */
import autocannon from 'autocannon';
import { Agent, request } from 'node:http';
import { percentile, requestPath, type Scenario } from './shared.js';

export interface LoadOptions {
  connections: number;
  pipelining: number;
  /** seconds */
  duration: number;
}

export interface LoadResult {
  /** 2xx responses per second, from the first response to the last. */
  rps: number;
  /** ms, 2xx responses, measured per response (autocannon's own histogram rounds to whole ms). */
  p50: number;
  p99: number;
  mean: number;
  ok: number;
  non2xx: number;
  /** Requests sent, including those still in flight when the window closed. */
  sent: number;
  errors: number;
  /** µs of the app server process's CPU per response (set by the caller). */
  serverCpuUs?: number;
}

/** Numbers for the distinct resources of the cold scenarios: never reused within a run. */
let nextResource = 0;
export const takeResourceNumber = (): number => nextResource++;

export async function runLoad(baseUrl: string, scenario: Scenario, token: string, options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  let non2xx = 0;
  let firstResponseAt = 0;
  let lastResponseAt = 0;
  const path = requestPath(scenario, 0);
  let finished!: (result: autocannon.Result) => void;
  let failed!: (error: unknown) => void;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    finished = resolve;
    failed = reject;
  });
  const instance = autocannon({
    url: baseUrl,
    connections: options.connections,
    pipelining: options.pipelining,
    duration: options.duration,
    // autocannon stops at its first sample tick after `duration`: ticks of a fifth of a window end it on time.
    sampleInt: Math.min(1000, (options.duration * 1000) / 5),
    headers: { authorization: `Bearer ${token}` },
    requests: [
      scenario.distinctResources
        ? { method: 'GET', setupRequest: (req) => ({ ...req, path: requestPath(scenario, takeResourceNumber()) }) }
        : { method: 'GET', path },
    ],
  }, (error: unknown, result) => (error ? failed(error) : finished(result)));
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    lastResponseAt = performance.now();
    if (firstResponseAt === 0) firstResponseAt = lastResponseAt;
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    else non2xx++;
  });
  const result = await done;
  const sum = latencies.reduce((total, value) => total + value, 0);
  // The rate between the first and the last response: connecting and stopping are left out, and
  // the clock is finer than autocannon's `duration` (rounded to 10 ms, 4 % of a 0.25 s window).
  const responses = latencies.length + non2xx;
  const rate = responses > 1 ? (responses - 1) / ((lastResponseAt - firstResponseAt) / 1000) : 0;
  return {
    rps: rate * (latencies.length / Math.max(1, responses)),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    mean: sum / latencies.length,
    ok: latencies.length,
    non2xx,
    sent: result.requests.sent,
    errors: result.errors + result.timeouts,
  };
}

/** Requests one at a time over one kept-alive connection (no queueing): ms each. */
export function createProbe(baseUrl: string, token: string): { time(path: string): Promise<number>; close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return {
    async time(path) {
      const started = performance.now();
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${baseUrl}${path}`, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      });
      if (status !== 200) throw new Error(`probe ${path}: HTTP ${status}`);
      return performance.now() - started;
    },
    close: () => agent.destroy(),
  };
}
