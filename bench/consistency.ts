/**
 * What keeping answers current costs: `invalidate()` with 10 000 remembered decisions against
 * an authorizer that remembers nothing (it must not scan), and a warm read right after one.
 */
import { createAuthorizer, type Authorizer, type Principal } from '../src/index.js';
import { createTestKit, demoSeed } from '../testing/index.js';
import { median } from './shared.js';

export interface ConsistencyResult {
  remembered: number;
  /** µs per invalidate() call, median of rounds. */
  invalidateFullUs: number;
  invalidateEmptyUs: number;
}

const REMEMBERED = 10_000;
const ROUNDS = 5;
const CALLS = 20_000;

/** µs per invalidate() of a scope no remembered answer depends on (each call a new scope). */
async function invalidateUs(authz: Authorizer, round: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < CALLS; i++) await authz.invalidate({ membershipId: `om_other_${round}_${i}` });
  return ((performance.now() - started) * 1000) / CALLS;
}

export async function measureConsistency(): Promise<ConsistencyResult> {
  const kit = await createTestKit({ seed: demoSeed });
  try {
    const options = { workos: kit.workos(), clientId: kit.clientId, cache: { ttl: 600_000, negativeTtl: 600_000, max: REMEMBERED } };
    const full = createAuthorizer(options);
    const empty = createAuthorizer(options);
    const token = kit.mintToken({ user: 'user_alice', organization: 'org_acme', membership: 'om_alice', expiresIn: 3600 });
    const principal: Principal = await full.verify(token);
    // 10 000 decisions remembered (denials: the projects do not exist), in batches (one budget each).
    for (let from = 0; from < REMEMBERED; from += 250) {
      const checks = Array.from({ length: 250 }, (_, n) => ({ permission: 'project:edit', resource: { type: 'project', externalId: `bench-${from + n}` } }));
      await full.checkMany(principal, checks, { concurrency: 32 });
    }
    if (full.cacheStats().decisions !== REMEMBERED) throw new Error(`expected ${REMEMBERED} remembered decisions, found ${full.cacheStats().decisions}`);
    const fullRounds: number[] = [];
    const emptyRounds: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      fullRounds.push(await invalidateUs(full, round));
      emptyRounds.push(await invalidateUs(empty, round));
    }
    return { remembered: REMEMBERED, invalidateFullUs: median(fullRounds), invalidateEmptyUs: median(emptyRounds) };
  } finally {
    await kit.close();
  }
}
