/**
 * One scenario's app server, in a process of its own: a separate deployment, so that no scenario's
 * JIT feedback, hidden classes or garbage weigh on another's (Express's requests, for one, turn the
 * inline caches of Node's own HTTP code megamorphic for every app in the same process).
 */
import { serve } from './child.js';
import { kitClient, startServer } from './servers.js';
import { RESOURCE_PERMISSION, scenarioByKey, type KitInfo } from './shared.js';

let kit: KitInfo | undefined;
let server: Awaited<ReturnType<typeof startServer>> | undefined;
let upstreamClient: ReturnType<typeof kitClient> | undefined;

/** `n` sequential `authorization.check` calls from this process, straight to the kit: the upstream latency as the app sees it. */
async function probeUpstream(n: number, offset: number): Promise<number[]> {
  const workos = (upstreamClient ??= kitClient(kit!));
  const latencies: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await workos.authorization.check({
      organizationMembershipId: 'om_alice',
      permissionSlug: RESOURCE_PERMISSION,
      resourceExternalId: `cold-${offset + i}`,
      resourceTypeSlug: 'project',
    });
    latencies.push(performance.now() - started);
  }
  return latencies;
}

serve(async (message) => {
  switch (message.type) {
    case 'start': {
      kit = message.kit as KitInfo;
      server = await startServer(scenarioByKey(message.scenario), kit);
      return server.url;
    }
    case 'probe-upstream':
      return probeUpstream(message.n as number, message.offset as number);
    case 'cpu': {
      const { user, system } = process.cpuUsage();
      return user + system;
    }
    case 'memory':
      return process.memoryUsage();
    case 'close':
      return server?.close();
    default:
      throw new Error(`unknown request ${String(message.type)}`);
  }
});
