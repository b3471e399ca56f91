/**
 * The upstream: the fga-guard test kit (a stand-in WorkOS) in a process of its own, so its work
 * is not billed to the app server or to the load generator. `check` answers after 5 ms, from the
 * kit's model: alice is granted p-1 and every cold-N project through her role on ws-1.
 */
import { createTestKit, demoSeed } from '../testing/index.js';
import { serve } from './child.js';
import { AUDIENCE, COLD_PROJECTS, UPSTREAM_DELAY_MS, type KitInfo } from './shared.js';

const kit = await createTestKit({ seed: demoSeed });
kit.seed({
  resources: Array.from({ length: COLD_PROJECTS }, (_, n) => ({
    type: 'project',
    externalId: `cold-${n}`,
    organization: 'org_acme',
    parent: { type: 'workspace', externalId: 'ws-1' },
  })),
});
kit.inject('check', { delay: UPSTREAM_DELAY_MS });

serve(async (message) => {
  switch (message.type) {
    case 'info': {
      const token = kit.mintToken({
        user: 'user_alice',
        organization: 'org_acme',
        membership: 'om_alice',
        expiresIn: 3600,
        claims: { aud: AUDIENCE },
      });
      const info: KitInfo = { url: kit.url, clientId: kit.clientId, apiKey: kit.apiKey, issuer: kit.issuer, jwksUrl: kit.jwksUrl, token };
      return info;
    }
    case 'calls':
      return { check: kit.calls('check'), jwks: kit.calls('jwks'), all: kit.calls() };
    case 'close':
      return kit.close();
    default:
      throw new Error(`unknown request ${String(message.type)}`);
  }
});
