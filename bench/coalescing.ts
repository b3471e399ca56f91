/** Proof of request coalescing: N concurrent identical cold checks → one upstream call. */
import { createAuthorizer, type Decision } from '../src/index.js';
import { createTestKit, demoSeed } from '../testing/index.js';
import { RESOURCE_PERMISSION, UPSTREAM_DELAY_MS } from './shared.js';

export interface CoalescingResult {
  concurrent: number;
  /** Upstream `check` calls for N identical concurrent checks (target: 1). */
  identicalCalls: number;
  identicalAllowed: number;
  /** N checks spread over `distinctResources` resources → calls (target: one per resource). */
  distinctResources: number;
  spreadCalls: number;
  /** One more check of the same key afterwards: calls it made (target: 0) and its source. */
  afterCalls: number;
  afterSource: Decision['source'];
}

export async function measureCoalescing(concurrent = 100): Promise<CoalescingResult> {
  const kit = await createTestKit({ seed: demoSeed });
  try {
    kit.inject('check', { delay: UPSTREAM_DELAY_MS });
    const authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
    const principal = await authz.verify(kit.mintToken({ user: 'user_alice', organization: 'org_acme', membership: 'om_alice' }));
    const p1 = { type: 'project', externalId: 'p-1' };

    kit.resetCalls();
    const decisions = await Promise.all(Array.from({ length: concurrent }, () => authz.check(principal, RESOURCE_PERMISSION, p1)));
    const identicalCalls = kit.calls('check');

    kit.resetCalls();
    const after = await authz.check(principal, RESOURCE_PERMISSION, p1);
    const afterCalls = kit.calls('check');

    // The same N checks over the seed's resources alice's membership can be asked about.
    const resources = [
      { type: 'workspace', externalId: 'ws-1' },
      { type: 'project', externalId: 'p-2' },
      { type: 'app', externalId: 'a-1' },
    ];
    kit.resetCalls();
    await Promise.all(Array.from({ length: concurrent }, (_, i) => authz.check(principal, 'project:view', resources[i % resources.length])));
    const spreadCalls = kit.calls('check');

    return {
      concurrent,
      identicalCalls,
      identicalAllowed: decisions.filter((decision) => decision.allowed).length,
      distinctResources: resources.length,
      spreadCalls,
      afterCalls,
      afterSource: after.source,
    };
  } finally {
    await kit.close();
  }
}
