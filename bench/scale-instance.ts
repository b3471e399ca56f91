/**
 * One app instance of `npm run bench:scale`: an authorizer on the test kit with the Redis store,
 * driven by the parent over IPC.
 */
import { WorkOS } from '@workos-inc/node';
import { createRedisStore, type RedisStore } from '../redis/index.js';
import { createAuthorizer, isFgaGuardError, ServiceUnavailableError, type Authorizer, type Principal } from '../src/index.js';
import { serve } from './child.js';

interface Init {
  kitUrl: string;
  clientId: string;
  apiKey: string;
  redisUrl: string;
  tokens: Record<string, string>;
}

export interface Question {
  user: string;
  permission: string;
  resource: { type: string; externalId: string };
  expected: boolean;
}

export interface LoadResult {
  answers: number;
  wrong: number;
  unavailable: number;
  otherErrors: number;
}

let authz: Authorizer;
let store: RedisStore;
const principals = new Map<string, Principal>();
/** When each probe invalidation arrived here (ms, performance.timeOrigin + now). */
const arrivals = new Map<string, number>();
const now = () => performance.timeOrigin + performance.now();

async function init({ kitUrl, clientId, apiKey, redisUrl, tokens }: Init): Promise<void> {
  const { hostname, port } = new URL(kitUrl);
  const workos = new WorkOS(apiKey, { apiHostname: hostname, port: Number(port), https: false, clientId });
  store = createRedisStore({ url: redisUrl });
  authz = createAuthorizer({ workos, clientId, store, cache: { ttl: 600_000, negativeTtl: 600_000, max: 100_000 } });
  store.subscribe((scopes) => {
    if (scopes === 'all') return;
    for (const scope of scopes) if (scope.startsWith('mprobe_')) arrivals.set(scope, now());
  });
  await store.ready;
  for (const [user, token] of Object.entries(tokens)) principals.set(user, await authz.verify(token));
  while (!store.healthy) await new Promise((resolve) => setTimeout(resolve, 20));
}

async function ask({ user, permission, resource }: Question): Promise<boolean> {
  return authz.can(principals.get(user)!, permission, resource);
}

/** Asks `questions` round and round, `concurrency` at a time, for `ms`; counts wrong answers and failures. */
async function load(questions: Question[], ms: number, concurrency: number): Promise<LoadResult> {
  const result: LoadResult = { answers: 0, wrong: 0, unavailable: 0, otherErrors: 0 };
  const until = Date.now() + ms;
  let next = 0;
  async function worker(): Promise<void> {
    while (Date.now() < until) {
      const question = questions[next++ % questions.length]!;
      try {
        if ((await ask(question)) !== question.expected) result.wrong++;
        result.answers++;
      } catch (error) {
        if (error instanceof ServiceUnavailableError) result.unavailable++;
        else result.otherErrors++;
        if (!isFgaGuardError(error)) console.error(error);
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return result;
}

serve(async (message) => {
  switch (message.type) {
    case 'init':
      return init(message as unknown as Init);
    case 'ask': {
      // One after another, as requests arriving apart would.
      const answers: boolean[] = [];
      for (const question of message.questions as Question[]) answers.push(await ask(question));
      return answers;
    }
    case 'load':
      return load(message.questions as Question[], message.ms as number, message.concurrency as number);
    case 'invalidate': {
      const sentAt = now();
      await authz.invalidate({ membershipId: message.membershipId as string });
      return sentAt;
    }
    case 'arrivals':
      return Object.fromEntries(arrivals);
    case 'stats':
      return authz.cacheStats();
    case 'close':
      await store.close();
      return undefined;
    default:
      throw new Error(`unknown request ${String(message.type)}`);
  }
});
