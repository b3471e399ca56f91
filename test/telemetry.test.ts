import { context, metrics, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type DataPoint,
  type Histogram,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import express from 'express';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requirePermission } from '../adapters/express.js';
import { createAuthorizer, ServiceUnavailableError, type Authorizer, type AuthorizerOptions } from '../src/index.js';
import { INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION } from '../src/telemetry.js';
import { createTestKit, type TestKit } from '../testing/index.js';
import { testSeed } from './support/model.js';

/**
 * OpenTelemetry with the SDK's own providers and in-memory exporters, registered globally the way
 * an app registers them (before it creates its authorizer), against the test kit on loopback.
 */
let kit: TestKit;
beforeAll(async () => {
  kit = await createTestKit({ seed: testSeed });
});
afterAll(() => kit.close());

interface Installed {
  spans: InMemorySpanExporter;
  collect(): Promise<Map<string, DataPoint<unknown>[]>>;
  /** Everything exported, as one string: to search for what must never be there. */
  everything(): Promise<string>;
  shutdown(): Promise<void>;
}

let installed: Installed | undefined;
afterEach(async () => {
  kit.clearFaults();
  await installed?.shutdown();
  installed = undefined;
});

function install(): Installed {
  trace.disable();
  metrics.disable();
  context.disable();
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  trace.setGlobalTracerProvider(tracerProvider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(meterProvider);
  const collect = async () => {
    exporter.reset();
    await reader.forceFlush();
    const byName = new Map<string, DataPoint<unknown>[]>();
    for (const resource of exporter.getMetrics()) {
      for (const scope of resource.scopeMetrics) {
        for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric.dataPoints as DataPoint<unknown>[]);
      }
    }
    return byName;
  };
  installed = {
    spans,
    collect,
    async everything() {
      await reader.forceFlush();
      return JSON.stringify({ spans: spans.getFinishedSpans().map(serializable), metrics: exporter.getMetrics() });
    },
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      trace.disable();
      metrics.disable();
      context.disable();
    },
  };
  return installed;
}

function serializable(span: ReadableSpan) {
  const { name, kind, attributes, status, events, links, resource, instrumentationScope, parentSpanContext } = span;
  return { name, kind, attributes, status, events, links, resource: resource.attributes, instrumentationScope, parentSpanContext };
}

const authorizer = (options: AuthorizerOptions = {}): Authorizer => createAuthorizer({ workos: kit.workos(), clientId: kit.clientId, ...options });
const project = (externalId: string) => ({ type: 'project', externalId });
const names = (spans: InMemorySpanExporter) => spans.getFinishedSpans().map((span) => span.name);
const spanNamed = (spans: InMemorySpanExporter, name: string) => spans.getFinishedSpans().find((span) => span.name === name);
/** Alice, with no membership claim: a cold decision fetches the JWKS, looks her membership up and checks. */
const aliceToken = () => kit.mintToken({ user: 'user_alice', organization: 'org_acme' });

/** The value of the data point whose attributes include `attributes`. */
function pointValue(points: DataPoint<unknown>[] | undefined, attributes: Record<string, unknown>): unknown {
  return points?.find((point) => Object.entries(attributes).every(([key, value]) => point.attributes[key] === value))?.value;
}

describe('spans on upstream calls', () => {
  it('a cold decision has a CLIENT span for the JWKS fetch, the membership lookup and the check, with slugs and types only', async () => {
    const { spans } = install();
    const authz = authorizer();
    const principal = await authz.verify(aliceToken());
    const decision = await authz.check(principal, 'project:edit', project('p-1'));
    expect(decision).toMatchObject({ allowed: true, source: 'api' });

    expect(names(spans)).toEqual(['fga-guard jwks', 'fga-guard membership', 'fga-guard check']);
    for (const span of spans.getFinishedSpans()) {
      expect(span.kind).toBe(SpanKind.CLIENT);
      expect(span.status.code).not.toBe(SpanStatusCode.ERROR);
      expect(span.instrumentationScope).toMatchObject({ name: INSTRUMENTATION_NAME, version: INSTRUMENTATION_VERSION });
      expect(span.attributes['fga_guard.retries']).toBe(0);
    }
    for (const span of spans.getFinishedSpans()) expect(span.attributes['http.response.status_code'], span.name).toBe(200);
    expect(spanNamed(spans, 'fga-guard check')?.attributes).toEqual({
      'fga_guard.permission': 'project:edit',
      'fga_guard.resource_type': 'project',
      'fga_guard.retries': 0,
      'http.response.status_code': 200,
    });
    // No ids without `ids: true`: not the user, the organization, the membership or the resource.
    const exported = JSON.stringify(spans.getFinishedSpans().map(serializable));
    for (const id of ['user_alice', 'org_acme', 'om_alice', 'p-1']) expect(exported).not.toContain(id);
  });

  it('puts user, organization, membership and resource ids on spans with telemetry: { ids: true }', async () => {
    const { spans } = install();
    const authz = authorizer({ telemetry: { ids: true } });
    await authz.check(await authz.verify(aliceToken()), 'project:edit', project('p-1'));
    expect(spanNamed(spans, 'fga-guard membership')?.attributes).toMatchObject({ 'enduser.id': 'user_alice', 'fga_guard.organization_id': 'org_acme' });
    expect(spanNamed(spans, 'fga-guard check')?.attributes).toMatchObject({
      'fga_guard.permission': 'project:edit',
      'fga_guard.membership_id': 'om_alice',
      'fga_guard.resource_external_id': 'p-1',
    });
  });

  it('has no span on the synchronous paths: a remembered token, a token permission, a remembered decision', async () => {
    const { spans } = install();
    const authz = authorizer();
    const token = kit.mintToken({ user: 'user_alice', organization: 'org_acme', permissions: ['workspace:view'] });
    await authz.check(await authz.verify(token), 'project:edit', project('p-1'));
    expect(names(spans)).toHaveLength(3);
    spans.reset();

    const principal = await authz.verify(token);
    await expect(authz.check(principal, 'project:edit', project('p-1'))).resolves.toMatchObject({ source: 'cache' });
    await expect(authz.check(principal, 'workspace:view')).resolves.toMatchObject({ source: 'token' });
    expect(names(spans)).toEqual([]);
  });

  it('a listing and a write have their own spans (`fga-guard list`, `fga-guard write` with the operation and role)', async () => {
    const { spans } = install();
    const authz = authorizer();
    const principal = await authz.verify(aliceToken());
    await authz.listAccessible(principal, 'project:edit', { parent: { type: 'workspace', externalId: 'ws-1' } });
    await authz.roles.assign({ membershipId: 'om_bob', role: 'project-viewer', resource: project('p-1') });
    expect(spanNamed(spans, 'fga-guard list')?.attributes).toMatchObject({ 'fga_guard.permission': 'project:edit', 'fga_guard.resource_type': 'workspace' });
    expect(spanNamed(spans, 'fga-guard write')?.attributes).toEqual({
      'fga_guard.operation': 'roles.assign',
      'fga_guard.role': 'project-viewer',
      'fga_guard.resource_type': 'project',
      'fga_guard.retries': 0,
      'http.response.status_code': 201,
    });
    await authz.roles.remove({ membershipId: 'om_bob', role: 'project-viewer', resource: project('p-1') });
  });

  it('a call that succeeds on its retry has the retry and the final status', async () => {
    const { spans } = install();
    const authz = authorizer();
    const principal = await authz.verify(aliceToken());
    kit.inject('check', { status: 502, times: 1 });
    await expect(authz.check(principal, 'project:edit', project('p-1'))).resolves.toMatchObject({ allowed: true });
    const check = spanNamed(spans, 'fga-guard check');
    expect(check?.attributes).toMatchObject({ 'fga_guard.retries': 1, 'http.response.status_code': 200 });
    expect(check?.status.code).not.toBe(SpanStatusCode.ERROR);
  });

  it('a failed check is an ERROR span with the status and the retry, and counts as a 503 by cause', async () => {
    const telemetry = install();
    const authz = authorizer();
    const principal = await authz.verify(aliceToken());
    kit.inject('check', { status: 500 });
    await expect(authz.check(principal, 'project:edit', project('p-1'))).rejects.toBeInstanceOf(ServiceUnavailableError);

    const check = spanNamed(telemetry.spans, 'fga-guard check');
    expect(check?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'fga-guard check failed: upstream' });
    expect(check?.attributes).toMatchObject({ 'http.response.status_code': 500, 'fga_guard.retries': 1, 'error.type': 'upstream' });
    const collected = await telemetry.collect();
    expect(pointValue(collected.get('fga_guard.unavailable'), { 'fga_guard.cause': 'upstream' })).toBe(1);
  });

  it('a JWKS outage counts as a 503 of cause jwks', async () => {
    const telemetry = install();
    const authz = authorizer();
    kit.inject('jwks', { status: 500 });
    await expect(authz.verify(aliceToken())).rejects.toMatchObject({ status: 503, reason: 'jwks' });
    expect(spanNamed(telemetry.spans, 'fga-guard jwks')?.attributes).toMatchObject({ 'http.response.status_code': 500, 'error.type': '500' });
    const collected = await telemetry.collect();
    expect(pointValue(collected.get('fga_guard.unavailable'), { 'fga_guard.cause': 'jwks' })).toBe(1);
  });

  it('a guard’s check span is a child of the request span active when the guard runs (Express)', async () => {
    const { spans } = install();
    const authz = authorizer();
    const tracer = trace.getTracer('test-app');
    const app = express();
    app.use((_req, res, next) =>
      tracer.startActiveSpan('GET /projects/:id', (span) => {
        res.on('finish', () => span.end());
        next();
      }),
    );
    app.get('/projects/:id', requirePermission(authz, 'project:edit', { resource: (req) => project(String(req.params.id)) }), (_req, res) => {
      res.json({ ok: true });
    });
    await request(app).get('/projects/p-1').set('Authorization', `Bearer ${aliceToken()}`).expect(200);

    const requestSpan = spanNamed(spans, 'GET /projects/:id');
    expect(requestSpan).toBeDefined();
    for (const name of ['fga-guard jwks', 'fga-guard membership', 'fga-guard check']) {
      const span = spanNamed(spans, name);
      expect(span?.parentSpanContext?.spanId, name).toBe(requestSpan?.spanContext().spanId);
      expect(span?.spanContext().traceId, name).toBe(requestSpan?.spanContext().traceId);
    }
  });
});

describe('metrics', () => {
  it('counts decisions by source and outcome, times upstream calls in seconds and reports cache sizes', async () => {
    const telemetry = install();
    const authz = authorizer();
    const principal = await authz.verify(kit.mintToken({ user: 'user_alice', organization: 'org_acme', permissions: ['workspace:view'] }));
    await authz.check(principal, 'project:edit', project('p-1')); // api, allowed
    await authz.check(principal, 'project:edit', project('p-1')); // cache, allowed
    await authz.check(principal, 'project:edit', project('p-1')); // cache, allowed
    await authz.check(principal, 'workspace:view'); // token, allowed
    await authz.check(principal, 'app:deploy'); // token, denied (no resource)
    await authz.check(principal, 'project:view', project('p-1')); // api, denied

    const collected = await telemetry.collect();
    const decisions = collected.get('fga_guard.decisions');
    const count = (source: string, outcome: string) => pointValue(decisions, { 'fga_guard.source': source, 'fga_guard.outcome': outcome });
    expect([count('api', 'allowed'), count('cache', 'allowed'), count('token', 'allowed'), count('token', 'denied'), count('api', 'denied')]).toEqual([
      1, 2, 1, 1, 1,
    ]);
    expect(decisions).toHaveLength(5);

    const durations = collected.get('fga_guard.upstream.duration');
    const checks = pointValue(durations, { 'fga_guard.call': 'check' }) as Histogram | undefined;
    expect(checks?.count).toBe(2);
    expect(checks?.sum).toBeGreaterThan(0);
    expect(checks?.sum).toBeLessThan(5); // seconds, not ms
    expect((pointValue(durations, { 'fga_guard.call': 'jwks' }) as Histogram | undefined)?.count).toBe(1);

    const sizes = collected.get('fga_guard.cache.size');
    expect(pointValue(sizes, { 'fga_guard.cache': 'decision' })).toBe(authz.cacheStats().decisions);
    expect(pointValue(sizes, { 'fga_guard.cache': 'membership' })).toBe(1);
    expect(pointValue(sizes, { 'fga_guard.cache': 'token' })).toBe(1);
    expect(pointValue(sizes, { 'fga_guard.cache': 'listing' })).toBe(0);
  });
});

describe('what is never exported', () => {
  it('holds no token anywhere in spans or metrics, even when a call fails', async () => {
    const telemetry = install();
    const authz = authorizer({ telemetry: { ids: true } });
    const token = aliceToken();
    const principal = await authz.verify(token);
    await authz.check(principal, 'project:edit', project('p-1'));
    kit.inject('check', { status: 500, times: 2 });
    await expect(authz.check(principal, 'project:view', project('p-1'))).rejects.toBeInstanceOf(ServiceUnavailableError);

    const everything = await telemetry.everything();
    expect(everything).toContain('fga-guard check');
    expect(everything).toContain('fga_guard.decisions');
    const [header, payload, signature] = token.split('.') as [string, string, string];
    for (const part of [token, header, payload, signature, signature.slice(-12)]) expect(everything).not.toContain(part);
  });

  it('exports nothing with telemetry: false, where the default exports', async () => {
    const telemetry = install();
    const on = authorizer();
    await on.check(await on.verify(aliceToken()), 'project:edit', project('p-1'));
    expect(telemetry.spans.getFinishedSpans().length).toBeGreaterThan(0);
    expect((await telemetry.collect()).has('fga_guard.decisions')).toBe(true);

    const quiet = install();
    const off = authorizer({ telemetry: false });
    await off.check(await off.verify(aliceToken()), 'project:edit', project('p-1'));
    await off.check(await off.verify(aliceToken()), 'project:edit', project('p-1'));
    expect(quiet.spans.getFinishedSpans()).toEqual([]);
    expect([...(await quiet.collect()).keys()]).toEqual([]);
  });
});

describe('the telemetry option', () => {
  it('takes false or { ids?: boolean }, and refuses anything else', () => {
    expect(() => authorizer({ telemetry: false })).not.toThrow();
    expect(() => authorizer({ telemetry: { ids: true } })).not.toThrow();
    expect(() => authorizer({ telemetry: {} })).not.toThrow();
    for (const bad of [true, 'on', null, [], { ids: 'yes' }]) {
      expect(() => authorizer({ telemetry: bad as never })).toThrow(/telemetry must be false or \{ ids\?: boolean \}/);
    }
  });

  it('reports under the package’s name and version', () => {
    const { name, version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
    expect([INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION]).toEqual([name, version]);
  });
});
