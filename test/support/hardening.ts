import type { Response } from 'supertest';
import { expect } from 'vitest';

export { primaryFrameworks } from './apps.js';

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** A quoted auth-param value as RFC 6750 §3 allows it: printable ASCII, no `"`, no `\`, no CR/LF. */
const QUOTED = '"[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]*"';
export const CHALLENGE = new RegExp(`^Bearer realm=${QUOTED}(, [a-z_]+=${QUOTED})*$`);

/** Things that must never reach a response: stack frames, error class names, upstream texts. */
const LEAKS = [/\n\s+at /, /\bat .+\.(ts|js):\d+/, /Error:/, /node_modules/, /Injected fault/, /UPSTREAM-SECRET/];

/** Status, challenge, JSON body and no leak of `secrets` (tokens) for an fga-guard answer. */
export function expectGuardAnswer(res: Response, status: number, error: string, secrets: string[] = []): void {
  expect(res.status, res.text).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.body.error).toBe(error);
  expect(typeof res.body.message).toBe('string');
  expect(Object.keys(res.body).every((key) => ['error', 'message', 'permission'].includes(key))).toBe(true);
  const challenge = res.headers['www-authenticate'];
  if (status === 401 || status === 400 || status === 403) expect(challenge).toMatch(CHALLENGE);
  if (status === 503) {
    expect(challenge).toBeUndefined();
    expect(res.headers['retry-after']).toMatch(/^[1-9]\d*$/);
  }
  expectNoLeak(res, secrets);
}

export function expectNoLeak(res: Response, secrets: string[] = []): void {
  const everything = `${JSON.stringify(res.headers)}\n${res.text}`;
  for (const pattern of LEAKS) expect(everything).not.toMatch(pattern);
  for (const secret of secrets) if (secret.length > 8) expect(everything).not.toContain(secret);
  for (const value of Object.values(res.headers)) expect(String(value)).not.toMatch(/[\r\n]/);
}

export function expectInvalidToken(res: Response, token: string): void {
  expectGuardAnswer(res, 401, 'invalid_token', [token]);
  expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="api", error="invalid_token", error_description="[^"]+"$/);
}

/** Collects unhandled rejections and uncaught exceptions while installed. */
export function trackCrashes(): { crashes: unknown[]; stop(): void } {
  const crashes: unknown[] = [];
  const onCrash = (error: unknown) => crashes.push(error);
  process.on('unhandledRejection', onCrash);
  process.on('uncaughtException', onCrash);
  return {
    crashes,
    stop() {
      process.off('unhandledRejection', onCrash);
      process.off('uncaughtException', onCrash);
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
