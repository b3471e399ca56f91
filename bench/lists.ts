/**
 * Lists and batches against the hand-written patterns: filterAccessible of 100 items under one
 * parent (cold, every item granted) against 100 sequential checks and against Promise.all of 100
 * checks; and checkMany of 3 permissions on one warm resource against one warm check.
 */
import { createAuthorizer, type Principal } from '../src/index.js';
import { createTestKit, demoSeed, type TestKit } from '../testing/index.js';
import { median, UPSTREAM_DELAY_MS } from './shared.js';

export interface ListsResult {
  items: number;
  upstreamDelayMs: number;
  /** Median wall time of a cold filterAccessible, ms, and the upstream calls one made (at most). */
  filterMs: number;
  filterCalls: number;
  filterGranted: number;
  sequentialMs: number;
  parallelMs: number;
  /** µs per warm operation (medians of the rounds). */
  warmCheckUs: number;
  warmCheckManyUs: number;
  /** Median of the rounds' checkMany / check ratios: each round measures both back to back. */
  warmRatio: number;
}

const ITEMS = 100;
const ROUNDS = 5;
/** Warm rounds: each measures one check and then checkMany, for `seconds / WARM_ROUNDS` each. */
const WARM_ROUNDS = 15;
const parent = { type: 'workspace', externalId: 'ws-list' };
const projects = Array.from({ length: ITEMS }, (_, n) => ({ slug: `listed-${n}` }));
const asResource = (item: { slug: string }) => ({ type: 'project', externalId: item.slug });

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await run();
  return { ms: performance.now() - started, value };
}

/** µs per call of `op`, awaited back to back for about `seconds`. */
async function perOp(seconds: number, op: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 2_000; i++) await op();
  let ops = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  while (performance.now() < until) {
    for (let i = 0; i < 200; i++) await op();
    ops += 200;
  }
  return ((performance.now() - started) * 1000) / ops;
}

async function coldFilter(kit: TestKit, token: string): Promise<{ ms: number; calls: number; granted: number }> {
  const authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
  const principal = await authz.verify(token);
  kit.resetCalls();
  const { ms, value } = await timed(() => authz.filterAccessible(principal, 'project:edit', projects, asResource, { parent }));
  return { ms, calls: kit.calls(), granted: value.length };
}

export async function measureLists(seconds: number): Promise<ListsResult> {
  const kit = await createTestKit({ seed: demoSeed });
  try {
    kit.seed({
      resources: [
        { type: 'workspace', externalId: 'ws-list', organization: 'org_acme' },
        ...projects.map(({ slug }) => ({ type: 'project', externalId: slug, organization: 'org_acme', parent })),
      ],
      assignments: [{ membership: 'om_alice', role: 'workspace-admin', resource: parent }],
    });
    kit.inject('check', { delay: UPSTREAM_DELAY_MS });
    kit.inject('listResourcesForMembership', { delay: UPSTREAM_DELAY_MS });
    const token = kit.mintToken({ user: 'user_alice', organization: 'org_acme', membership: 'om_alice', expiresIn: 3600 });

    const filters = [];
    for (let round = 0; round < ROUNDS; round++) filters.push(await coldFilter(kit, token));

    // What apps write by hand today: one SDK check per item.
    const workos = kit.workos({ maxRetries: 0 });
    const handCheck = (item: { slug: string }) =>
      workos.authorization.check({ organizationMembershipId: 'om_alice', permissionSlug: 'project:edit', resourceExternalId: item.slug, resourceTypeSlug: 'project' });
    const sequential = await timed(async () => {
      for (const item of projects) await handCheck(item);
    });
    const parallel = await timed(() => Promise.all(projects.map(handCheck)));

    const authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
    const principal: Principal = await authz.verify(token);
    const p1 = { type: 'project', externalId: 'p-1' };
    const three = ['project:edit', 'project:view', 'app:deploy'].map((permission) => ({ permission, resource: p1 }));
    await authz.checkMany(principal, three);
    // Alternating rounds, so that both sides of the ratio see the same machine.
    const checkRounds: number[] = [];
    const manyRounds: number[] = [];
    for (let round = 0; round < WARM_ROUNDS; round++) {
      checkRounds.push(await perOp(seconds / WARM_ROUNDS, () => authz.check(principal, 'project:edit', p1)));
      manyRounds.push(await perOp(seconds / WARM_ROUNDS, () => authz.checkMany(principal, three)));
    }

    return {
      items: ITEMS,
      upstreamDelayMs: UPSTREAM_DELAY_MS,
      filterMs: median(filters.map((f) => f.ms)),
      filterCalls: Math.max(...filters.map((f) => f.calls)),
      filterGranted: Math.min(...filters.map((f) => f.granted)),
      sequentialMs: sequential.ms,
      parallelMs: parallel.ms,
      warmCheckUs: median(checkRounds),
      warmCheckManyUs: median(manyRounds),
      warmRatio: median(manyRounds.map((us, round) => us / (checkRounds[round] as number))),
    };
  } finally {
    await kit.close();
  }
}
