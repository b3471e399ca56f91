import type { Request } from 'express';
import { IncomingMessage } from 'node:http';
import type { AuthorizedRequest } from '../src/authorizer.js';
import type { Principal } from '../src/claims.js';
import type { Decision } from '../src/decision.js';

/**
 * Where `req.auth` and `req.authDecision` live.
 *
 * Express gives every request its app's prototype (`Object.setPrototypeOf(req, app.request)`). On
 * Node 20 and 22, V8 then builds a new hidden class for each property added to that request: 1.2–1.3
 * µs per property, more than the whole token-path decision (a loop of requests made as Express makes
 * them). There fga-guard adds no property to `req`: `auth` and `authDecision` are accessors, defined
 * once on Express's own request prototype (the one every app's `request` inherits from, so they
 * survive sub-apps restoring the prototype), that read and write a WeakMap keyed by the request
 * (0.3–0.4 µs in the same loop). Assigning `req.auth` yourself still works.
 *
 * On Node 24 the properties cost nothing measurable in that loop, and the WeakMap is the dearer
 * one: a guarded Express request used 1.1 µs more CPU with it than without (of 21 µs for a bare
 * one), its entries being work for every garbage collection. So there they are plain properties.
 */
export const PLAIN_PROPERTIES = Number(process.versions.node.split('.')[0]) >= 24;

interface RequestAuth {
  readonly principal?: Principal;
  readonly decision?: Decision;
}

type Slots = WeakMap<object, RequestAuth>;

/** Shared by every copy of fga-guard in the process (ESM and CJS builds alike). */
const SLOTS = Symbol.for('fga-guard.express.request-auth');

/** Express's request prototype: the last one on the chain before Node's IncomingMessage. */
function expressRequestPrototype(req: object): object | undefined {
  let prototype: unknown = Object.getPrototypeOf(req);
  if (prototype === IncomingMessage.prototype) return undefined;
  while (prototype !== null && typeof prototype === 'object') {
    const parent: unknown = Object.getPrototypeOf(prototype);
    if (parent === IncomingMessage.prototype) return prototype;
    prototype = parent;
  }
  return undefined;
}

function installSlots(prototype: object): Slots | undefined {
  const existing = (prototype as { [SLOTS]?: Slots })[SLOTS];
  if (existing) return existing;
  // Someone else's `auth` on the prototype is left alone (the requests then get own properties).
  if (Object.hasOwn(prototype, 'auth') || Object.hasOwn(prototype, 'authDecision')) return undefined;
  const slots: Slots = new WeakMap();
  Object.defineProperties(prototype, {
    [SLOTS]: { value: slots },
    auth: {
      configurable: true,
      get(this: object) {
        return slots.get(this)?.principal;
      },
      set(this: object, principal: Principal | undefined) {
        slots.set(this, { principal, decision: slots.get(this)?.decision });
      },
    },
    authDecision: {
      configurable: true,
      get(this: object) {
        return slots.get(this)?.decision;
      },
      set(this: object, decision: Decision | undefined) {
        slots.set(this, { principal: slots.get(this)?.principal, decision });
      },
    },
  });
  return slots;
}

let lastPrototype: object | null = null;
let lastSlots: Slots | undefined;

function slotsOf(req: Request): Slots | undefined {
  const prototype = Object.getPrototypeOf(req) as object | null;
  if (prototype !== lastPrototype) {
    const base = expressRequestPrototype(req);
    lastSlots = base === undefined ? undefined : installSlots(base);
    lastPrototype = prototype;
  }
  return lastSlots;
}

/**
 * `req.auth = principal`, keeping `req.authDecision`: once the accessors are on Express's request
 * prototype the assignment goes through them; any other request gets a plain property.
 */
export function setPrincipal(req: Request, principal: Principal): void {
  if (!PLAIN_PROPERTIES) slotsOf(req);
  req.auth = principal;
}

/** `req.auth` and `req.authDecision` at once: one WeakMap entry, the authorizer's own answer. */
export function setAuthorized(req: Request, authorized: AuthorizedRequest): void {
  const slots = PLAIN_PROPERTIES ? undefined : slotsOf(req);
  if (slots !== undefined) {
    slots.set(req, authorized);
    return;
  }
  req.auth = authorized.principal;
  req.authDecision = authorized.decision;
}
