import { describe, expect, it } from 'vitest';
import {
  FgaGuardError,
  ForbiddenError,
  InvalidRequestError,
  InvalidTokenError,
  ServiceUnavailableError,
  UnauthorizedError,
  isFgaGuardError,
  toErrorResponse,
} from '../src/index.js';

describe('error classes', () => {
  const cases = [
    { error: new UnauthorizedError('api'), status: 401, code: 'unauthorized', challenge: 'Bearer realm="api"' },
    {
      error: new InvalidRequestError('api', 'Only one bearer token is allowed'),
      status: 400,
      code: 'invalid_request',
      challenge: 'Bearer realm="api", error="invalid_request", error_description="Only one bearer token is allowed"',
    },
    {
      error: new InvalidTokenError('api', 'The access token expired'),
      status: 401,
      code: 'invalid_token',
      challenge: 'Bearer realm="api", error="invalid_token", error_description="The access token expired"',
    },
    {
      error: new ForbiddenError('api', 'project:edit'),
      status: 403,
      code: 'forbidden',
      challenge: 'Bearer realm="api", error="insufficient_scope", error_description="Permission denied"',
    },
  ];

  it.each(cases)('$code carries status, code, statusCode, expose and its challenge', ({ error, status, code, challenge }) => {
    expect(error).toBeInstanceOf(FgaGuardError);
    expect(error).toBeInstanceOf(Error);
    expect(isFgaGuardError(error)).toBe(true);
    expect(error.status).toBe(status);
    expect(error.statusCode).toBe(status);
    expect(error.code).toBe(code);
    expect(error.expose).toBe(true);
    expect(error.headers['WWW-Authenticate']).toBe(challenge);
    expect(Object.isFrozen(error.headers)).toBe(true);
  });

  it('503 carries Retry-After and its reason', () => {
    const error = new ServiceUnavailableError(7, 'rate_limited');
    expect(error.status).toBe(503);
    expect(error.code).toBe('unavailable');
    expect(error.headers).toEqual({ 'Retry-After': '7' });
    expect(error.reason).toBe('rate_limited');
  });

  it('toErrorResponse gives the body and headers the adapters send', () => {
    expect(toErrorResponse(new ForbiddenError('api', 'project:edit'))).toEqual({
      status: 403,
      headers: {
        'WWW-Authenticate': 'Bearer realm="api", error="insufficient_scope", error_description="Permission denied"',
        'Cache-Control': 'no-store',
      },
      body: { error: 'forbidden', message: 'Permission denied', permission: 'project:edit' },
    });
    expect(toErrorResponse(new UnauthorizedError('api')).body).toEqual({ error: 'unauthorized', message: 'Authentication required' });
  });

  it('isFgaGuardError is false for anything else', () => {
    expect(isFgaGuardError(new Error('x'))).toBe(false);
    expect(isFgaGuardError({ status: 401, code: 'invalid_token' })).toBe(false);
  });
});
