/** The app servers, in a process of their own (one core's worth of work; the load generator has the other). */
import { serve } from './child.js';
import { kitClient, startServers } from './servers.js';
import { RESOURCE_PERMISSION, type KitInfo } from './shared.js';

let kit: KitInfo | undefined;
let servers: Awaited<ReturnType<typeof startServers>> | undefined;
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
    case 'start':
      kit = message.kit as KitInfo;
      servers = await startServers(kit);
      return servers.urls;
    case 'probe-upstream':
      return probeUpstream(message.n as number, message.offset as number);
    case 'cpu': {
      const { user, system } = process.cpuUsage();
      return user + system;
    }
    case 'memory':
      return process.memoryUsage();
    case 'close':
      return servers?.close();
    default:
      throw new Error(`unknown request ${String(message.type)}`);
  }
});
