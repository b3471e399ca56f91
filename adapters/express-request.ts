import type { Request } from 'express';
import { IncomingMessage } from 'node:http';
import type { Principal } from '../src/claims.js';
import type { Decision } from '../src/decision.js';

/**
 * Where `req.auth` and `req.authDecision` live.
 *
 * Express gives every request its app's prototype (`Object.setPrototypeOf(req, app.request)`), and
 * after that V8 builds a new hidden class for each property added to that request: about 2 µs per
 * property here, more than the whole token-path decision. So fga-guard adds no property to `req`:
 * `auth` and `authDecision` are accessors, defined once on Express's own request prototype (the one
 * every app's `request` inherits from, so they survive sub-apps restoring the prototype), that read
 * and write WeakMaps keyed by the request. Assigning `req.auth` yourself still works.
 */
interface Slots {
  readonly auth: WeakMap<object, Principal | undefined>;
  readonly authDecision: WeakMap<object, Decision | undefined>;
}

/** Shared by every copy of fga-guard in the process (ESM and CJS builds alike). */
const SLOTS = Symbol.for('fga-guard.express.request-slots');

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

function slotAccessor<K extends keyof Slots>(slots: Slots, name: K): PropertyDescriptor {
  const values = slots[name] as WeakMap<object, unknown>;
  return {
    configurable: true,
    enumerable: false,
    get(this: object) {
      return values.get(this);
    },
    set(this: object, value: unknown) {
      values.set(this, value);
    },
  };
}

function installSlots(prototype: object): Slots | undefined {
  const existing = (prototype as { [SLOTS]?: Slots })[SLOTS];
  if (existing) return existing;
  // Someone else's `auth` on the prototype is left alone (the requests then get own properties).
  if (Object.hasOwn(prototype, 'auth') || Object.hasOwn(prototype, 'authDecision')) return undefined;
  const slots: Slots = { auth: new WeakMap(), authDecision: new WeakMap() };
  Object.defineProperties(prototype, {
    [SLOTS]: { value: slots },
    auth: slotAccessor(slots, 'auth'),
    authDecision: slotAccessor(slots, 'authDecision'),
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

/** `req.auth = principal` (and `req.authDecision = decision`), without adding properties to `req`. */
export function setAuth(req: Request, principal: Principal, decision?: Decision): void {
  const slots = slotsOf(req);
  if (slots === undefined) {
    // Not an Express request (or its prototype is taken): plain properties.
    req.auth = principal;
    if (decision !== undefined) req.authDecision = decision;
    return;
  }
  slots.auth.set(req, principal);
  if (decision !== undefined) slots.authDecision.set(req, decision);
}
