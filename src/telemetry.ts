// OpenTelemetry, when the app has `@opentelemetry/api` (an optional peer): a span per upstream call,
// and metrics (decisions, upstream latency, cache sizes, 503s). Without it, nothing is loaded and the
// request path pays one property check per decision.
import type * as OpenTelemetry from '@opentelemetry/api';
import type { Attributes, Counter, Histogram, Span, Tracer } from '@opentelemetry/api';
import type { DecisionSource } from './decision.js';
import { ServiceUnavailableError, type UnavailableReason } from './errors.js';
import type { ResourceRef } from './resource.js';

type Api = typeof OpenTelemetry;

export interface TelemetryOptions {
  /** Put user, organization, membership and resource ids on spans (default false: slugs and types only). */
  ids?: boolean;
}

/** The name and version spans and metrics are reported under (kept equal to package.json by a test). */
export const INSTRUMENTATION_NAME = 'fga-guard';
export const INSTRUMENTATION_VERSION = '0.1.0';

/**
 * A variable, not a literal: a bundler would otherwise try to resolve the optional peer at build
 * time (and fail where it is not installed); loaded at run time, it is simply absent.
 */
const API_MODULE = '@opentelemetry/api';
let loading: Promise<Api | undefined> | undefined;
/** The API once loaded, and the context key a traced call's record travels under (to statusReportingFetch). */
let loaded: { api: Api; callKey: symbol } | undefined;

/** The API, once: started by the first authorizer that wants it; any failure means "no telemetry". */
function loadApi(): Promise<Api | undefined> {
  loading ??= import(/* webpackIgnore: true */ /* @vite-ignore */ API_MODULE).then(
    (module: Api & { default?: Api }) => {
      const api = typeof module.trace?.getTracer === 'function' ? module : module.default;
      if (api !== undefined) loaded = { api, callKey: api.createContextKey('fga-guard upstream call') };
      return api;
    },
    () => undefined,
  );
  return loading;
}

/**
 * The fetch the WorkOS client runs on, telling the traced call in whose context it runs the status
 * it got: the SDK throws the status of a failure, but does not say which 2xx a success was. Needs
 * a context manager (any Node SDK setup registers one); without it, a success has no status.
 */
export function statusReportingFetch(inner: typeof fetch | undefined): typeof fetch {
  return (input, init) =>
    (inner ?? globalThis.fetch)(input, init).then((response) => {
      const call = loaded?.api.context.active().getValue(loaded.callKey) as UpstreamCall | undefined;
      if (call !== undefined) call.status = response.status;
      return response;
    });
}

/** The upstream calls that get a span (`fga-guard <kind>`). */
export type UpstreamKind = 'jwks' | 'membership' | 'check' | 'resource' | 'list' | 'write';

/** What one traced call tells its span: filled in by the call as it goes (callWithinBudget does). */
export interface UpstreamCall {
  /** Retries of a transient failure so far. */
  retries: number;
  /** WorkOS's (or the JWKS host's) last HTTP status, when one was seen. */
  status: number | undefined;
}

/** Span attributes of a call, built only when there is a tracer to take them; `ids` says whether ids may go in. */
export type SpanAttributesOf = (ids: boolean) => Attributes;

/** What an upstream call is about; the ids go on its span only with `telemetry: { ids: true }`. */
export interface CallSubject {
  readonly permission?: string;
  readonly resource?: ResourceRef;
  /** A write: e.g. 'roles.assign'. */
  readonly operation?: string;
  readonly role?: string;
  readonly userId?: string;
  readonly organizationId?: string;
  readonly membership?: string;
}

/** The span attributes of a call about `subject`: slugs and types always, ids only when allowed. */
export function attributesOf(subject: CallSubject): SpanAttributesOf {
  return (ids) => {
    const { permission, resource, operation, role, userId, organizationId, membership } = subject;
    const attributes: Attributes = {};
    if (operation !== undefined) attributes['fga_guard.operation'] = operation;
    if (permission !== undefined) attributes['fga_guard.permission'] = permission;
    if (role !== undefined) attributes['fga_guard.role'] = role;
    if (resource !== undefined && 'type' in resource) attributes['fga_guard.resource_type'] = resource.type;
    if (!ids) return attributes;
    if (userId !== undefined) attributes['enduser.id'] = userId;
    if (organizationId !== undefined) attributes['fga_guard.organization_id'] = organizationId;
    if (membership !== undefined) attributes['fga_guard.membership_id'] = membership;
    if (resource !== undefined) {
      if ('id' in resource) attributes['fga_guard.resource_id'] = resource.id;
      else attributes['fga_guard.resource_external_id'] = resource.externalId;
    }
    return attributes;
  };
}

/** Semconv's buckets for HTTP client durations (s). */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** The decision counter's attribute sets, built once: no object per decision. */
const DECISION_ATTRIBUTES: Readonly<Record<DecisionSource, readonly [Attributes, Attributes]>> = {
  token: decisionAttributes('token'),
  cache: decisionAttributes('cache'),
  api: decisionAttributes('api'),
};

function decisionAttributes(source: DecisionSource): readonly [Attributes, Attributes] {
  return [
    Object.freeze({ 'fga_guard.source': source, 'fga_guard.outcome': 'denied' }),
    Object.freeze({ 'fga_guard.source': source, 'fga_guard.outcome': 'allowed' }),
  ];
}

/** How many entries each cache holds (the authorizer's cacheStats, by the gauge's `fga_guard.cache` attribute). */
export interface CacheSizes {
  readonly decisions: number;
  readonly memberships: number;
  readonly listings: number;
  readonly resourceOrganizations: number;
  readonly tokens: number;
}

const CACHE_ATTRIBUTES = {
  decisions: Object.freeze({ 'fga_guard.cache': 'decision' }),
  memberships: Object.freeze({ 'fga_guard.cache': 'membership' }),
  listings: Object.freeze({ 'fga_guard.cache': 'listing' }),
  resourceOrganizations: Object.freeze({ 'fga_guard.cache': 'resource_organization' }),
  tokens: Object.freeze({ 'fga_guard.cache': 'token' }),
} satisfies Record<keyof CacheSizes, Attributes>;

interface Instruments {
  readonly api: Api;
  readonly tracer: Tracer;
  readonly decisions: Counter;
  readonly duration: Histogram;
  readonly unavailable: Counter;
}

/** One authorizer's telemetry. */
export class Telemetry {
  private instruments: Instruments | undefined;
  /** Settles once the API is loaded (or known absent); undefined when telemetry is off. */
  private readonly ready: Promise<void> | undefined;
  private readonly ids: boolean;
  private sizes: (() => CacheSizes) | undefined;

  constructor(options: false | TelemetryOptions | undefined) {
    this.ids = options !== false && options?.ids === true;
    this.ready = options === false ? undefined : loadApi().then((api) => this.start(api));
  }

  private start(api: Api | undefined): void {
    if (api === undefined) return;
    const meter = api.metrics.getMeter(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
    this.instruments = {
      api,
      tracer: api.trace.getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION),
      decisions: meter.createCounter('fga_guard.decisions', { description: 'Authorization decisions, by source and outcome', unit: '{decision}' }),
      duration: meter.createHistogram('fga_guard.upstream.duration', {
        description: 'Duration of upstream calls (WorkOS API, JWKS), retries included',
        unit: 's',
        advice: { explicitBucketBoundaries: DURATION_BUCKETS },
      }),
      unavailable: meter.createCounter('fga_guard.unavailable', {
        description: 'Upstream failures that made fga-guard answer 503, by cause',
        unit: '{error}',
      }),
    };
  }

  /**
   * Reports the cache sizes as an observable gauge. The meter holds this authorizer's telemetry
   * only weakly: an authorizer the app dropped stops being observed instead of being kept alive.
   */
  observeCaches(sizes: () => CacheSizes): void {
    this.sizes = sizes;
    void this.ready?.then(() => {
      const api = this.instruments?.api;
      if (api === undefined) return;
      const gauge = api.metrics.getMeter(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION).createObservableGauge('fga_guard.cache.size', {
        description: 'Entries each cache holds',
        unit: '{entry}',
      });
      const owner = new WeakRef(this);
      const observe = (result: OpenTelemetry.ObservableResult) => {
        const current = owner.deref()?.sizes?.();
        if (current === undefined) return gauge.removeCallback(observe);
        for (const cache of Object.keys(CACHE_ATTRIBUTES) as (keyof CacheSizes)[]) result.observe(current[cache], CACHE_ATTRIBUTES[cache]);
      };
      gauge.addCallback(observe);
    });
  }

  /** One decision. Synchronous and allocation-free: it runs on the warm path. */
  decision(source: DecisionSource, allowed: boolean): void {
    this.instruments?.decisions.add(1, DECISION_ATTRIBUTES[source][allowed ? 1 : 0]);
  }

  /** A 503 about to be answered, by its cause. */
  unavailable(cause: UnavailableReason): void {
    this.instruments?.unavailable.add(1, { 'fga_guard.cause': cause });
  }

  /**
   * Runs one upstream call in a CLIENT span `fga-guard <kind>`, child of the context active at the
   * call (and active itself while it runs, so HTTP instrumentation nests under it). The span gets
   * the last HTTP status and the retries from `call`; it is ERROR when the call throws or ends on a
   * status ≥ 400, with a message naming the cause (never an upstream message: it may hold ids).
   */
  async upstream<T>(kind: UpstreamKind, attributes: SpanAttributesOf | undefined, run: (call: UpstreamCall) => Promise<T>): Promise<T> {
    const call: UpstreamCall = { retries: 0, status: undefined };
    if (this.ready === undefined) return run(call);
    // Resolved after the first call: awaited so that even the very first call is traced.
    await this.ready;
    const instruments = this.instruments;
    if (instruments === undefined) return run(call);
    const { api, tracer, duration } = instruments;
    const { callKey } = loaded as { callKey: symbol };
    const active = api.context.active();
    const span = tracer.startSpan(
      `fga-guard ${kind}`,
      { kind: api.SpanKind.CLIENT, attributes: attributes?.(this.ids) },
      active,
    );
    const started = performance.now();
    let failure: string | undefined;
    try {
      return await api.context.with(api.trace.setSpan(active, span).setValue(callKey, call), () => run(call));
    } catch (error) {
      failure = error instanceof ServiceUnavailableError ? error.reason : errorType(error);
      if (error instanceof ServiceUnavailableError) this.unavailable(error.reason);
      throw error;
    } finally {
      const seconds = (performance.now() - started) / 1000;
      if (failure === undefined && call.status !== undefined && call.status >= 400) failure = String(call.status);
      end(api, span, kind, call, failure);
      const measured: Attributes = { 'fga_guard.call': kind };
      if (call.status !== undefined) measured['http.response.status_code'] = call.status;
      if (failure !== undefined) measured['error.type'] = failure;
      duration.record(seconds, measured);
    }
  }
}

/** An error's class name, or `_OTHER` (semconv's value for an unknown error type): never its message. */
function errorType(error: unknown): string {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name.length > 0 && name !== 'Error' ? name : '_OTHER';
}

function end(api: Api, span: Span, kind: UpstreamKind, call: UpstreamCall, failure: string | undefined): void {
  span.setAttribute('fga_guard.retries', call.retries);
  if (call.status !== undefined) span.setAttribute('http.response.status_code', call.status);
  if (failure !== undefined) {
    span.setAttribute('error.type', failure);
    span.setStatus({ code: api.SpanStatusCode.ERROR, message: `fga-guard ${kind} failed: ${failure}` });
  }
  span.end();
}
