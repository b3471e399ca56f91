/**
 * `npm run bench:instructions` (needs valgrind; not part of `npm run bench`): the instructions one
 * request costs in each app server, counted by callgrind. Timings move by a few per cent from run
 * to run; instruction counts by a few hundred a request, so what the guard adds can be read to the
 * instruction, and where it goes (`callgrind_annotate` on the dump files it names).
 *
 * Each server runs alone under valgrind: uninstrumented while it warms up, then `MEASURED`
 * requests counted. Not after a forced full GC: V8 spent most of the count compiling optimized
 * code again. User space only: the kernel's share of a request (its socket calls) is not counted,
 * and a count is not a time.
 */
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChild } from './child.js';
import { APP_SERVER_FLAGS, requestPath, scenarioByKey, type KitInfo, type Scenario } from './shared.js';

// Koa by default (about 6 minutes). Named on the command line (`npm run bench:instructions --
// express/bare express/token`), any scenario; an Express server takes about 12 minutes, and its
// counts move by more than the guard's share: over 30 000 requests each, the token path read
// +10 200 over bare and the warm path +3 900, against 587 600 for bare.
const SCENARIOS_COUNTED = (process.argv.length > 2 ? process.argv.slice(2) : ['koa/bare', 'koa/token', 'koa/warm']).map(scenarioByKey);
// Requests before counting. Counted after 3 000, half of a Koa server's instructions were V8
// compiling optimized code; an Express server was still at it after 60 000. Without valgrind, a
// loaded Koa server stopped optimizing (--trace-opt) after 170 000 or so. The warm-up runs in four
// parts so that closing and reopening connections, as between the bench's windows, is optimized
// too.
const WARMUP = 200_000;
// Requests counted. An Express request leaves far more garbage, and a major GC (tens of thousands
// of instructions a request over 3 000 requests) fell in some counts and not others: over 30 000,
// it is spread as in a server's life.
const MEASURED = { koa: 3_000, express: 30_000, fastify: 3_000, hono: 3_000 };
const CONNECTIONS = 10;
// The app servers run with APP_SERVER_FLAGS, as in `npm run bench`. BENCH_SERVER_FLAGS=
// --perf-basic-prof lets callgrind_annotate's unnamed addresses be looked up in
// /tmp/perf-<pid>.map: the JavaScript functions they belong to.

function hasValgrind(): boolean {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
    execFileSync('callgrind_control', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function send(url: string, scenario: Scenario, token: string, amount: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        connections: CONNECTIONS,
        amount,
        headers: { authorization: `Bearer ${token}` },
        requests: [{ method: 'GET', path: requestPath(scenario, 0) }],
      },
      (error: unknown, result) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(result)),
    );
  });
}

/** One scenario's server under callgrind: instructions per request over `MEASURED` requests. */
async function count(scenario: Scenario, kit: KitInfo, outDir: string): Promise<number> {
  const dumpName = scenario.key.replace('/', '-');
  const child = startChild('./server-process.ts', APP_SERVER_FLAGS, {
    command: 'valgrind',
    args: ['--tool=callgrind', '--quiet', '--instr-atstart=no', `--callgrind-out-file=${join(outDir, `${dumpName}.%p`)}`],
  });
  const pid = String(child.process.pid);
  const callgrind = (...args: string[]) => execFileSync('callgrind_control', [...args, pid], { stdio: 'ignore' });
  try {
    const url = await child.request<string>({ type: 'start', kit, scenario: scenario.key });
    for (let part = 0; part < 4; part++) await send(url, scenario, kit.token, WARMUP / 4);
    callgrind('--instr=on');
    await send(url, scenario, kit.token, 500);
    callgrind('--zero');
    const measured = MEASURED[scenario.framework];
    const result = await send(url, scenario, kit.token, measured);
    callgrind('--dump');
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${scenario.key}: ${result.non2xx} non-2xx, ${result.errors} errors`);
    const prefix = `${dumpName}.${pid}.`;
    const dump = join(outDir, readdirSync(outDir).filter((name) => name.startsWith(prefix)).sort().at(-1)!);
    const total = Number(/^(?:summary|totals): (\d+)/m.exec(readFileSync(dump, 'utf8'))![1]);
    return total / measured;
  } finally {
    await child.request({ type: 'close' }).catch(() => undefined);
    await child.stop();
  }
}

if (!hasValgrind()) {
  process.stderr.write('bench:instructions needs valgrind (Debian/Ubuntu: apt-get install valgrind)\n');
  process.exit(1);
}
const outDir = mkdtempSync(join(tmpdir(), 'fga-guard-callgrind-'));
const kitProcess = startChild('./kit-process.ts');
try {
  const kit = await kitProcess.request<KitInfo>({ type: 'info' });
  const counts = new Map<string, number>();
  process.stdout.write(`Instructions per request (callgrind, user space; counted over ${MEASURED.koa} requests on Koa, ${MEASURED.express} on Express, after warm-up); dumps in ${outDir}\n\n`);
  process.stdout.write('| scenario | instructions/request | over bare |\n| --- | ---: | ---: |\n');
  for (const scenario of SCENARIOS_COUNTED) {
    const perRequest = await count(scenario, kit, outDir);
    counts.set(scenario.key, perRequest);
    const bare = scenario.id === 'bare' ? undefined : counts.get(`${scenario.framework}/bare`);
    const added = bare === undefined ? 0 : Math.round(perRequest - bare);
    const over = bare === undefined ? '' : `${added < 0 ? '−' : '+'}${Math.abs(added).toLocaleString('en-US')} (${((perRequest / bare - 1) * 100).toFixed(1)} %)`;
    process.stdout.write(`| ${scenario.key} | ${Math.round(perRequest).toLocaleString('en-US')} | ${over} |\n`);
  }
} finally {
  await kitProcess.request({ type: 'close' }).catch(() => undefined);
  await kitProcess.stop();
}
