/** What the bench's processes agree on. */

/** The audience every bench token carries, so the Auth0 peer (which requires one) accepts the same tokens. */
export const AUDIENCE = 'https://bench.api';
/** Held by the token (alice's org-level `member` role): the token path. */
export const TOKEN_PERMISSION = 'workspace:view';
/** Not in the token; granted on project p-1 through workspace-admin on ws-1 (FGA): the resource path. */
export const RESOURCE_PERMISSION = 'project:edit';
/** The project every warm (and naive) request is about. */
export const WARM_PROJECT = 'p-1';
/** Projects cold-0 … cold-(N-1) exist in the kit's model; a full run asks about 55 000 of them. */
export const COLD_PROJECTS = 80_000;
/** The kit's injected upstream latency on `check`, ms. */
export const UPSTREAM_DELAY_MS = 5;

/** The kit (the stand-in WorkOS), as the other processes reach it. */
export interface KitInfo {
  url: string;
  clientId: string;
  apiKey: string;
  issuer: string;
  jwksUrl: string;
  /** alice @ org_acme, membership claim, `aud`, 1 h lifetime. */
  token: string;
}

export type Framework = 'express' | 'koa' | 'fastify' | 'hono';
export type ScenarioId = 'bare' | 'control' | 'noop' | 'header' | 'token' | 'warm' | 'otel' | 'cold' | 'naive' | 'auth0';

export interface Scenario {
  /** e.g. `express/token` */
  key: string;
  framework: Framework;
  id: ScenarioId;
  label: string;
  /** Each request names a resource never asked before. */
  distinctResources?: boolean;
}

export const SCENARIO_LABELS: Record<ScenarioId, string> = {
  bare: 'bare route (no guard)',
  control: 'bare route again, its own processes (control)',
  noop: 'one pass-through middleware, no guard',
  header: 'one middleware reading the Authorization header, no guard',
  token: 'requirePermission, granted by the token',
  warm: 'requirePermission + resource, warm cache',
  otel: 'warm, with a tracer provider registered (AlwaysOff sampler)',
  cold: 'requirePermission + resource, cold (distinct), 5 ms upstream',
  naive: 'naive: jwtVerify + authorization.check per request, 5 ms upstream',
  auth0: 'peer: express-oauth2-jwt-bearer (token only)',
};

const EXPRESS: ScenarioId[] = ['bare', 'control', 'token', 'auth0', 'warm', 'otel', 'naive', 'cold'];
const KOA: ScenarioId[] = ['bare', 'control', 'token', 'warm', 'cold'];
/** Fastify and Hono: the targets' scenarios (token and warm against bare) and the control. */
const NEWER: ScenarioId[] = ['bare', 'control', 'token', 'warm'];
/**
 * Hono also runs a route behind one middleware that only calls `next()` (a route with more than one
 * handler leaves Hono's synchronous single-handler path for its async composition), and behind one
 * that also reads the Authorization header (on Node, `@hono/node-server` builds a web `Headers`
 * from the raw headers on the first read). Every guard does both: they bound what one can read.
 */
const HONO: ScenarioId[] = [...NEWER, 'noop', 'header'];

/**
 * Node flags of every app server (`BENCH_SERVER_FLAGS` adds more). No memory reducer: it runs full
 * GCs in a process that has gone idle, and between its windows every app server is idle while
 * another is measured on the same CPU. With it, the idle servers used about 8 % of that CPU during
 * the windows (up to 130 ms of one 250 ms window); without it, 1.5 %. A server under steady load,
 * as in production, does not run it either.
 */
export const APP_SERVER_FLAGS = ['--no-memory-reducer', ...(process.env.BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean)];

/** In the order of the report. */
export const SCENARIOS: Scenario[] = [
  ...EXPRESS.map((id) => ({ key: `express/${id}`, framework: 'express' as const, id, label: SCENARIO_LABELS[id], distinctResources: id === 'cold' })),
  ...KOA.map((id) => ({ key: `koa/${id}`, framework: 'koa' as const, id, label: SCENARIO_LABELS[id], distinctResources: id === 'cold' })),
  ...NEWER.map((id) => ({ key: `fastify/${id}`, framework: 'fastify' as const, id, label: SCENARIO_LABELS[id] })),
  ...HONO.map((id) => ({ key: `hono/${id}`, framework: 'hono' as const, id, label: SCENARIO_LABELS[id] })),
];

/** The scenario named `key` (e.g. `koa/token`). */
export function scenarioByKey(key: unknown): Scenario {
  const scenario = SCENARIOS.find((candidate) => candidate.key === key);
  if (!scenario) throw new Error(`unknown scenario ${String(key)} (one of ${SCENARIOS.map((known) => known.key).join(', ')})`);
  return scenario;
}

/**
 * In the order they run within an odd round (even rounds run it backwards, so that every pair runs
 * in both orders): the pairs the targets compare run back to back (token with bare and with the
 * Auth0 peer, warm with bare and Express warm with naive), so that a burst of machine noise tends
 * to hit both sides of a ratio alike. The control (bare against bare) is three windows from bare on
 * Express and two on Koa: no closer than any target's pair.
 *
 * What a window follows matters, by a few hundredths of a ratio (bench/README.md, What the order
 * of the windows does; why was not found): after cold or the Auth0 peer a window reads slower, and
 * a Koa window right after an Express one faster. So both sides of every Koa ratio follow only Koa
 * windows of the same kind (the fast ones: Koa's token path opens the odd rounds, after itself);
 * cold and the Auth0 peer are followed by a control (which shows what they leave), by the other
 * cold, or by the guard; and where a slow window must come before one side of an Express ratio
 * (Express's token path sits next to the Auth0 peer, its warm path next to naive), it is the
 * guard's side, never bare's. Express with a tracer provider comes after naive, two windows from
 * the warm path it is compared with (leaving the pairs above as they were); in the reversed rounds
 * the warm path follows naive instead. Fastify and Hono come last, each opened by its control (which takes
 * whatever naive, or the other framework, leaves), their pairs back to back.
 */
export const ROUND_ORDER: Scenario[] = [
  'koa/token',
  'koa/bare',
  'koa/warm',
  'koa/control',
  'koa/cold',
  'express/cold',
  'express/control',
  'express/auth0',
  'express/token',
  'express/bare',
  'express/warm',
  'express/naive',
  'express/otel',
  'fastify/control',
  'fastify/token',
  'fastify/bare',
  'fastify/warm',
  'hono/control',
  'hono/token',
  'hono/bare',
  'hono/warm',
  'hono/noop',
  'hono/header',
].map(scenarioByKey);

/**
 * How far each scenario's replica moves on, per pass through the replicas. Processes running the
 * same code differ by a few per cent (JIT, GC sizing, memory layout: pairs of bare Koa processes
 * loaded at once read 0.96–1.02 of each other here), so a ratio must not always come from the same
 * two processes. With the replica of round r (from 0) being
 * `(r + offset × ⌊r / replicas⌋) mod replicas`, two scenarios whose offsets differ by a number prime
 * to the replica count meet in every combination of their replicas once in replicas² rounds.
 * Every compared pair (token, warm and the control against bare, warm against naive, token against
 * the Auth0 peer, the tracer provider's warm path against the warm path) differs by 1 or 2, prime to 3.
 */
// Hono's plain middlewares (2) meet bare and token in every combination, warm (not compared) in three.
const REPLICA_OFFSET: Record<ScenarioId, number> = { bare: 0, naive: 0, auth0: 0, cold: 0, otel: 0, token: 1, control: 1, warm: 2, noop: 2, header: 2 };

/** The replica of `scenario` that serves round `round` (from 0). */
export function replicaOf(scenario: Scenario, round: number, replicas: number): number {
  return (round + REPLICA_OFFSET[scenario.id] * Math.floor(round / replicas)) % replicas;
}

/** The path a scenario's requests go to; `n` numbers the distinct resources of the cold scenarios. */
export function requestPath(scenario: Scenario, n: number): string {
  return scenario.distinctResources ? `/projects/cold-${n}` : `/projects/${WARM_PROJECT}`;
}

export const median = (values: number[]): number => percentile(values, 50);

/** Nearest-rank percentile of unsorted values (NaN when empty). */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
