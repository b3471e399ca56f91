/**
 * `npm run bench:scale`: 4 app instances (processes) sharing one Redis store, the test kit as
 * WorkOS, all on loopback. Measures how fast an invalidation reaches every instance, what a
 * first-level miss answered from Redis costs, whether cold instances on a warm Redis ask WorkOS at
 * all, and what happens to answers when Redis is killed and restarted under load.
 */
import { createRedisStore } from '../redis/index.js';
import { createAuthorizer, type Principal } from '../src/index.js';
import { createTestKit, demoSeed } from '../testing/index.js';
import { RedisServer } from '../test/support/redis-server.js';
import { startChild, type Child } from './child.js';
import type { LoadResult, Question } from './scale-instance.js';
import { median } from './shared.js';

const INSTANCES = 4;
const TRIALS = 1_000;
const quick = process.argv.includes('--quick');
const trials = quick ? 100 : TRIALS;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
};
const log = (line: string) => console.log(line);

const kit = await createTestKit({ seed: demoSeed });
const redis = await RedisServer.start();
const children: Child[] = [];
try {
  const tokens = Object.fromEntries(
    ['user_alice', 'user_bob'].map((user) => [user, kit.mintToken({ user, organization: 'org_acme', expiresIn: 3600 })]),
  );
  const projects = ['p-1', 'p-2', 'p-3', ...Array.from({ length: 47 }, (_, n) => `missing-${n}`)];
  // Alice administers ws-1 (p-1 and p-2 are under it); bob views p-2 only; the missing ones exist nowhere.
  const questions: Question[] = projects.flatMap((externalId) => [
    { user: 'user_alice', permission: 'project:edit', resource: { type: 'project', externalId }, expected: externalId === 'p-1' || externalId === 'p-2' },
    { user: 'user_bob', permission: 'project:view', resource: { type: 'project', externalId }, expected: externalId === 'p-2' },
  ]);

  // 1. A warm Redis: one instance (this process) asks every question once.
  const warmerStore = createRedisStore({ url: redis.url });
  await warmerStore.ready;
  const warmer = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId, store: warmerStore, cache: { ttl: 600_000, negativeTtl: 600_000, max: 100_000 } });
  const warmerPrincipals = new Map<string, Principal>();
  for (const [user, token] of Object.entries(tokens)) warmerPrincipals.set(user, await warmer.verify(token));
  const truth = await Promise.all(questions.map((q) => warmer.can(warmerPrincipals.get(q.user)!, q.permission, q.resource)));
  if (truth.some((answer, i) => answer !== questions[i]!.expected)) throw new Error('the demo model does not answer as the bench expects');
  await new Promise((resolve) => setTimeout(resolve, 100)); // the writes to Redis are not awaited

  // 2. Four instances with cold memories: every answer from Redis, none from WorkOS.
  for (let i = 0; i < INSTANCES; i++) children.push(startChild('scale-instance.ts'));
  const info = { kitUrl: kit.url, clientId: kit.clientId, apiKey: kit.apiKey, redisUrl: redis.url, tokens };
  await Promise.all(children.map((child) => child.request({ type: 'init', ...info })));
  kit.resetCalls();
  const coldAnswers = await Promise.all(children.map((child) => child.request<boolean[]>({ type: 'ask', questions })));
  const coldUpstream = kit.calls('check') + kit.calls('listOrganizationMemberships');
  const coldWrong = coldAnswers.flat().filter((answer, i) => answer !== questions[i % questions.length]!.expected).length;
  log(`cold instances on a warm Redis: ${INSTANCES} × ${questions.length} questions, ${coldUpstream} upstream calls, ${coldWrong} wrong`);

  // 3. Invalidation fan-out: instance 0 invalidates, the others note when it arrives.
  const latencies: number[] = [];
  const [sender, ...receivers] = children as [Child, ...Child[]];
  const sentAt: number[] = [];
  for (let i = 0; i < trials; i++) {
    sentAt.push(await sender.request<number>({ type: 'invalidate', membershipId: `probe_${i}` }));
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  let missing = 0;
  for (const receiver of receivers) {
    const arrivals = await receiver.request<Record<string, number>>({ type: 'arrivals' });
    for (let i = 0; i < trials; i++) {
      const at = arrivals[`mprobe_${i}`];
      if (at === undefined) missing++;
      else latencies.push(at - sentAt[i]!);
    }
  }
  const p99 = percentile(latencies, 99);
  const max = Math.max(...latencies);
  log(`invalidation visible on every other instance: ${latencies.length} arrivals (${missing} missing), median ${median(latencies).toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${max.toFixed(2)} ms`);

  // 4. A first-level miss answered from Redis, against a first-level hit (this process, one at a time).
  const readerStore = createRedisStore({ url: redis.url });
  await readerStore.ready;
  const reader = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId, store: readerStore, cache: { ttl: 600_000, negativeTtl: 600_000, max: 100_000 } });
  const readerAlice = await reader.verify(tokens.user_alice!);
  const secondLevel: number[] = [];
  const firstLevel: number[] = [];
  // The first 500 warm the code up and are not counted.
  const WARM_UP = 500;
  const resources = Array.from({ length: WARM_UP + (quick ? 500 : 3_000) }, (_, n) => ({ type: 'project', externalId: `l2-${n}` }));
  const warmAlice = warmerPrincipals.get('user_alice')!;
  for (const resource of resources) await warmer.can(warmAlice, 'project:edit', resource);
  await new Promise((resolve) => setTimeout(resolve, 200));
  await reader.membershipOf(readerAlice);
  kit.resetCalls();
  for (const [index, resource] of resources.entries()) {
    let started = performance.now();
    await reader.can(readerAlice, 'project:edit', resource);
    const fromRedis = (performance.now() - started) * 1000;
    started = performance.now();
    await reader.can(readerAlice, 'project:edit', resource);
    const fromMemory = (performance.now() - started) * 1000;
    if (index < WARM_UP) continue;
    secondLevel.push(fromRedis);
    firstLevel.push(fromMemory);
  }
  const l2Calls = kit.calls('check');
  const addedUs = median(secondLevel) - median(firstLevel);
  log(`first-level miss answered from Redis: median ${median(secondLevel).toFixed(1)} µs against ${median(firstLevel).toFixed(1)} µs for a hit (+${addedUs.toFixed(1)} µs); ${l2Calls} upstream calls`);

  // 5. Redis killed and restarted under load.
  const loadMs = quick ? 2_000 : 4_000;
  const running = children.map((child) => child.request<LoadResult>({ type: 'load', questions, ms: loadMs, concurrency: 4 }));
  await new Promise((resolve) => setTimeout(resolve, loadMs / 4));
  await redis.kill();
  await new Promise((resolve) => setTimeout(resolve, loadMs / 4));
  await redis.run();
  const results = await Promise.all(running);
  const total = results.reduce((sum, r) => ({ answers: sum.answers + r.answers, wrong: sum.wrong + r.wrong, unavailable: sum.unavailable + r.unavailable, otherErrors: sum.otherErrors + r.otherErrors }));
  log(`Redis killed for ${loadMs / 4} ms under load: ${total.answers} answers, ${total.wrong} wrong, ${total.unavailable} unavailable (503), ${total.otherErrors} other errors`);
  const healthy = await Promise.all(children.map(async (child) => (await child.request<{ store?: { healthy: boolean } }>({ type: 'stats' })).store?.healthy));
  log(`after the restart, instances healthy again: ${healthy.filter(Boolean).length} of ${INSTANCES}`);

  const targets = [
    ['invalidation visible everywhere, p99', `${p99.toFixed(2)} ms`, '≤ 25 ms', p99 <= 25 && missing === 0],
    ['invalidation visible everywhere, max', `${max.toFixed(2)} ms`, '≤ 100 ms', max <= 100 && missing === 0],
    ['first-level miss from Redis, added at the median', `${addedUs.toFixed(1)} µs`, '≤ 150 µs', addedUs <= 150 && l2Calls === 0],
    ['4 cold instances on a warm Redis: upstream calls', String(coldUpstream), '0', coldUpstream === 0 && coldWrong === 0],
    ['Redis killed and restarted under load: wrong answers, 5xx', `${total.wrong}, ${total.unavailable + total.otherErrors}`, '0, 0', total.wrong === 0 && total.unavailable + total.otherErrors === 0],
  ] as const;
  log('\n| target | measured | goal | |\n| --- | ---: | --- | --- |');
  for (const [name, measured, goal, pass] of targets) log(`| ${name} | ${measured} | ${goal} | ${pass ? 'met' : '**missed**'} |`);
  process.exitCode = targets.every(([, , , pass]) => pass) ? 0 : 1;
} finally {
  await Promise.allSettled(children.map(async (child) => {
    await child.request({ type: 'close' }).catch(() => undefined);
    await child.stop();
  }));
  await kit.close();
  await redis.stop();
  // The two stores made here keep timers and connections; the run is over.
  setTimeout(() => process.exit(), 100).unref();
}
