/** Tables, ratios and targets: printed, and written to bench/results/latest.{json,md}. */
import { cpus, totalmem, type as osType, release } from 'node:os';
import { readFileSync } from 'node:fs';
import type { CoalescingResult } from './coalescing.js';
import type { ConsistencyResult } from './consistency.js';
import type { ListsResult } from './lists.js';
import type { LoadOptions, LoadResult } from './load.js';
import type { MemoryResult } from './memory.js';
import type { MicroResult } from './micro.js';
import { median, percentile, SCENARIOS, type Framework, type Scenario } from './shared.js';

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGB: number;
  node: string;
  os: string;
}

export function machine(): Machine {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpuModel;
  } catch {
    // not Linux: os.cpus() it is
  }
  return {
    // The machine's, not this process's: a process pinned to one CPU (or started by one) sees one.
    cpus: cpus().length,
    cpuModel,
    memoryGB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    os: `${osType()} ${release()}`,
  };
}

export interface ScenarioSummary {
  key: string;
  label: string;
  rounds: LoadResult[];
  /** medians across rounds */
  rps: number;
  p50: number;
  p99: number;
  /** median over rounds of (this round's rps / the same round's bare rps, same framework) */
  vsBare: number;
  /** the per-round ratios to bare, for their spread */
  vsBareRounds: number[];
  /** … / the same round's naive rps (Express naive) */
  vsNaive: number;
  /** median across rounds: µs of app-server CPU per response */
  serverCpuUs: number;
  /** median over rounds of (bare's server CPU/req / this one's, same framework): the throughput ratio a dedicated core would give */
  cpuVsBare: number;
  /** upstream `check` calls per request sent (a window closes with requests in flight, whose calls count) */
  upstreamPerRequest: number;
  non2xx: number;
  errors: number;
}

export interface ColdLatency {
  /** Sequential (unloaded) requests, ms medians. */
  bareP50: number;
  coldP50: number;
  upstreamP50: number;
  /** cold − bare − measured upstream call: what the guard adds around the upstream call. */
  overheadP50: number;
  /** cold − bare − the nominal 5 ms (the timer fires late, and the SDK's fetch costs, so this is larger). */
  overNominalP50: number;
  samples: number;
}

export interface Target {
  name: string;
  measured: string;
  goal: string;
  pass: boolean;
}

/** A ratio that must read 1: the same app in other processes, measured like the targets. */
export interface Control {
  name: string;
  measured: string;
}

export interface Report {
  date: string;
  quick: boolean;
  machine: Machine;
  /** warm-up: seconds per server process, by framework */
  load: LoadOptions & { rounds: number; warmup: Record<Framework, number>; replicas: number; pinned: boolean };
  scenarios: ScenarioSummary[];
  cold: Record<string, ColdLatency>;
  micro: MicroResult[];
  coalescing: CoalescingResult;
  lists: ListsResult;
  consistency: ConsistencyResult;
  memory: MemoryResult;
  targets: Target[];
  controls: Control[];
  /** What the framework itself costs a guard (Hono's middleware composition); not targets. */
  frameworkCosts: Control[];
  seconds: number;
}

export function summarize(
  results: Map<string, LoadResult[]>,
  upstreamCalls: Map<string, number>,
): ScenarioSummary[] {
  const bareOf = (scenario: Scenario) => results.get(`${scenario.framework}/bare`)!;
  const naive = results.get('express/naive')!;
  return SCENARIOS.map((scenario) => {
    const rounds = results.get(scenario.key)!;
    const sent = rounds.reduce((total, round) => total + round.sent, 0);
    const vsBareRounds = rounds.map((round, i) => round.rps / bareOf(scenario)[i]!.rps);
    return {
      key: scenario.key,
      label: scenario.label,
      rounds,
      rps: median(rounds.map((round) => round.rps)),
      p50: median(rounds.map((round) => round.p50)),
      p99: median(rounds.map((round) => round.p99)),
      vsBare: median(vsBareRounds),
      vsBareRounds,
      vsNaive: median(rounds.map((round, i) => round.rps / naive[i]!.rps)),
      serverCpuUs: median(rounds.map((round) => round.serverCpuUs ?? Number.NaN)),
      cpuVsBare: median(rounds.map((round, i) => (bareOf(scenario)[i]!.serverCpuUs ?? Number.NaN) / (round.serverCpuUs ?? Number.NaN))),
      upstreamPerRequest: (upstreamCalls.get(scenario.key) ?? 0) / Math.max(1, sent),
      non2xx: rounds.reduce((total, round) => total + round.non2xx, 0),
      errors: rounds.reduce((total, round) => total + round.errors, 0),
    };
  });
}

const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const signed = (value: number) => `${value >= 0 ? '+' : ''}${fixed(value, 1)}`;
const thousands = (value: number) => Math.round(value).toLocaleString('en-US');

/** The median of per-round ratios with their interquartile range: how much the rounds agreed. */
function medianRatio(perRound: number[], digits: number): string {
  const spread = perRound.length > 1 ? ` (IQR ${fixed(percentile(perRound, 25))}–${fixed(percentile(perRound, 75))})` : '';
  return `${fixed(median(perRound), digits)}×${spread}`;
}

/** Bare against bare in other processes, per framework: what the method reads when nothing differs. */
export function controls(scenarios: ScenarioSummary[]): Control[] {
  return scenarios
    .filter((scenario) => scenario.key.endsWith('/control'))
    .map((scenario) => ({ name: `${scenario.key.split('/')[0]}: bare / bare (other processes)`, measured: medianRatio(scenario.vsBareRounds, 3) }));
}

/** Hono: plain middlewares against bare, and the guards against one that reads the header. */
export function frameworkCosts(scenarios: ScenarioSummary[]): Control[] {
  const by = (key: string) => scenarios.find((scenario) => scenario.key === key);
  const noop = by('hono/noop');
  const header = by('hono/header');
  if (noop === undefined || header === undefined) return [];
  const against = (key: string) => by(key)!.rounds.map((round, i) => round.rps / header.rounds[i]!.rps);
  return [
    { name: 'hono: one pass-through middleware / bare', measured: medianRatio(noop.vsBareRounds, 3) },
    { name: 'hono: one middleware reading the Authorization header / bare', measured: medianRatio(header.vsBareRounds, 3) },
    { name: 'hono: token path / that middleware', measured: medianRatio(against('hono/token'), 3) },
    { name: 'hono: warm resource path / that middleware', measured: medianRatio(against('hono/warm'), 3) },
  ];
}

export function evaluate(report: Omit<Report, 'targets' | 'controls' | 'frameworkCosts' | 'seconds'>): Target[] {
  const by = (key: string) => report.scenarios.find((scenario) => scenario.key === key)!;
  const targets: Target[] = [];
  const ratio = (name: string, perRound: number[], goal: number) => {
    const value = median(perRound);
    // Two decimals, or as many more as it takes not to round a miss up to the goal (0.895 is not 0.90).
    let digits = 2;
    while (digits < 6 && Number(fixed(value, digits)) >= goal !== value >= goal) digits++;
    targets.push({ name, measured: medianRatio(perRound, digits), goal: `≥ ${goal}×`, pass: value >= goal });
  };
  const against = (key: string, otherKey: string) => by(key).rounds.map((round, i) => round.rps / by(otherKey).rounds[i]!.rps);
  for (const framework of ['express', 'koa', 'fastify', 'hono']) {
    ratio(`${framework}: token path / bare`, by(`${framework}/token`).vsBareRounds, 0.9);
    ratio(`${framework}: warm resource path / bare`, by(`${framework}/warm`).vsBareRounds, 0.85);
  }
  ratio('express: warm resource path / naive', against('express/warm', 'express/naive'), 8);
  ratio('express: warm path with a tracer provider, nothing sampled / without', against('express/otel', 'express/warm'), 0.95);
  ratio('express: token path / Auth0 peer', against('express/token', 'express/auth0'), 1.8);
  for (const [key, cold] of Object.entries(report.cold)) {
    targets.push({
      name: `${key}: cold path adds over the upstream call (median)`,
      measured: `${fixed(cold.overheadP50, 3)} ms`,
      goal: '< 1 ms',
      pass: cold.overheadP50 < 1,
    });
  }
  const { coalescing, memory } = report;
  targets.push({
    name: `${coalescing.concurrent} concurrent identical cold checks → upstream calls`,
    measured: String(coalescing.identicalCalls),
    goal: '1',
    pass: coalescing.identicalCalls === 1 && coalescing.identicalAllowed === coalescing.concurrent,
  });
  const { lists } = report;
  targets.push({
    name: `filterAccessible of ${lists.items} granted items under one parent, cold → upstream calls`,
    measured: String(lists.filterCalls),
    goal: '≤ 2',
    pass: lists.filterCalls <= 2 && lists.filterGranted === lists.items,
  });
  targets.push({
    name: `filterAccessible of ${lists.items} granted items, cold: wall time (median of 5)`,
    measured: `${fixed(lists.filterMs, 1)} ms`,
    goal: `≤ ${3 * lists.upstreamDelayMs} ms (3 upstream delays)`,
    pass: lists.filterMs <= 3 * lists.upstreamDelayMs,
  });
  targets.push({
    name: 'checkMany of 3 permissions on one warm resource / one warm check',
    measured: `${fixed(lists.warmRatio, 2)}×`,
    goal: '≤ 1.5×',
    pass: lists.warmRatio <= 1.5,
  });
  const { consistency } = report;
  targets.push({
    name: `invalidate() with ${thousands(consistency.remembered)} remembered decisions / with none`,
    measured: `${fixed(consistency.invalidateFullUs, 2)} / ${fixed(consistency.invalidateEmptyUs, 2)} µs`,
    goal: '≤ 2× (no scan)',
    pass: consistency.invalidateFullUs <= 2 * consistency.invalidateEmptyUs,
  });
  targets.push({
    name: `RSS flat while checking ${thousands(memory.total)} distinct resources`,
    measured: `${signed(memory.rssGrowthMB)} MB RSS, ${signed(memory.heapGrowthMB)} MB heap (2nd half max − 1st half max)`,
    goal: '< 16 MB RSS, < 4 MB heap',
    pass: memory.flat,
  });
  return targets;
}

function table(headers: string[], rows: string[][], align: ('l' | 'r')[]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(align.map((a) => (a === 'r' ? '---:' : '---'))), ...rows.map(line)].join('\n');
}

export function markdown(report: Report): string {
  const { machine: m, load } = report;
  const out: string[] = [];
  out.push(`Machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGB} GB, Node ${m.node}, ${m.os}.`);
  out.push(
    `Load: autocannon, ${load.connections} connections, pipelining ${load.pipelining}, ${load.rounds} interleaved round(s) of ${load.duration} s per scenario, every other one in reverse order, each window once the last one's server is quiet ` +
      `(after ${load.warmup.express} s of warm-up each on Express, ${load.warmup.koa} s on Koa, ${load.warmup.fastify} s on Fastify, ${load.warmup.hono} s on Hono); medians across rounds. Ratios are medians of per-round ratios. ` +
      `Each app server in its own process${load.replicas > 1 ? `, ${load.replicas} per scenario taking rounds in turn so that compared scenarios meet in every combination of their processes` : ''}` +
      `${load.pinned ? ', pinned to one CPU; the load generator and the kit on the other.' : '; not pinned to CPUs.'}` +
      `${report.quick ? ' **Quick run.**' : ''}`,
  );
  out.push('');
  out.push(
    table(
      ['scenario', 'req/s', 'p50 ms', 'p99 ms', '× bare', '× naive', 'server CPU µs/req', 'bare CPU ÷ this', 'upstream calls/req'],
      report.scenarios.map((s) => [
        `${s.key}: ${s.label}`,
        thousands(s.rps),
        fixed(s.p50),
        fixed(s.p99),
        fixed(s.vsBare),
        fixed(s.vsNaive, 1),
        fixed(s.serverCpuUs, 0),
        fixed(s.cpuVsBare),
        fixed(s.upstreamPerRequest, 3),
      ]),
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  out.push('');
  out.push('Cold path, sequential requests (no queueing), medians in ms:');
  out.push('');
  out.push(
    table(
      ['framework', 'bare', 'cold', 'upstream call alone', 'added by the guard', 'cold − bare − 5 ms'],
      Object.entries(report.cold).map(([key, c]) => [key, fixed(c.bareP50, 3), fixed(c.coldP50, 3), fixed(c.upstreamP50, 3), fixed(c.overheadP50, 3), fixed(c.overNominalP50, 3)]),
      ['l', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  out.push('');
  out.push('Core alone (no HTTP), back to back (the public async methods awaited):');
  out.push('');
  out.push(table(['operation', 'ops/s', 'µs/op'], report.micro.map((r) => [r.name, thousands(r.opsPerSec), fixed(r.usPerOp, 1)]), ['l', 'r', 'r']));
  out.push('');
  const mem = report.memory;
  out.push(
    `Memory: ${thousands(mem.total)} distinct resources through \`authz.check\` (stand-in WorkOS, default cache max 10 000) in ${fixed(mem.seconds, 1)} s` +
      `${mem.gcExposed ? ', sampled after a full GC' : ''}:`,
  );
  out.push('');
  out.push(table(['checks', 'RSS MB', 'heap used MB'], mem.samples.map((s) => [thousands(s.checks), fixed(s.rssMB, 1), fixed(s.heapUsedMB, 1)]), ['r', 'r', 'r']));
  out.push('');
  const c = report.coalescing;
  out.push(
    `Coalescing: ${c.concurrent} concurrent identical cold checks → ${c.identicalCalls} upstream call(s) (${c.identicalAllowed} allowed); ` +
      `${c.concurrent} spread over ${c.distinctResources} resources → ${c.spreadCalls} call(s); one more afterwards → ${c.afterCalls} call(s), source \`${c.afterSource}\`.`,
  );
  out.push('');
  const l = report.lists;
  out.push(
    `Lists (upstream delayed ${l.upstreamDelayMs} ms): filterAccessible of ${l.items} granted items, cold, ${fixed(l.filterMs, 1)} ms and ${l.filterCalls} call(s); ` +
      `by hand, ${l.items} sequential checks ${fixed(l.sequentialMs, 0)} ms, Promise.all of ${l.items} checks ${fixed(l.parallelMs, 0)} ms. ` +
      `Warm: one check ${fixed(l.warmCheckUs, 2)} µs, checkMany of 3 ${fixed(l.warmCheckManyUs, 2)} µs.`,
  );
  out.push('');
  out.push('Targets:');
  out.push('');
  out.push(table(['target', 'measured', 'goal', ''], report.targets.map((t) => [t.name, t.measured, t.goal, t.pass ? 'PASS' : '**FAIL**']), ['l', 'r', 'l', 'l']));
  if (report.controls.length > 0) {
    out.push('');
    out.push('Control (not a target; reads 1 when the method is sound):');
    out.push('');
    out.push(table(['control', 'measured'], report.controls.map((c) => [c.name, c.measured]), ['l', 'r']));
  }
  if (report.frameworkCosts.length > 0) {
    out.push('');
    out.push("The framework's own cost (not a target: what any Hono middleware that reads the Authorization header pays on Node):");
    out.push('');
    out.push(table(['ratio', 'measured'], report.frameworkCosts.map((c) => [c.name, c.measured]), ['l', 'r']));
  }
  return out.join('\n');
}
