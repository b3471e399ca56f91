import { execFile, spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WorkOS } from '@workos-inc/node';
import { demoSeed } from '../../testing/index.js';

const cli = fileURLToPath(new URL('../../testing/cli.ts', import.meta.url));
const nodeArgs = (args: string[]) => ['--import', 'tsx', cli, ...args];

function writeSeed(content: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'fga-testkit-')), 'model.json');
  writeFileSync(file, JSON.stringify(content));
  return file;
}

/** Exit code and stderr of a CLI run expected to fail fast. */
function runFailing(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, nodeArgs(args), { timeout: 8_000 }, (error, _stdout, stderr) => {
      resolve({ code: error && typeof error.code === 'number' ? error.code : 0, stderr });
    });
  });
}

/**
 * The client an app gets by running the printed line of code with the printed env lines as its
 * whole environment: the line is evaluated as printed, with `process.env` holding only those values.
 */
function clientFromPrintedLine(line: string, env: Record<string, string>): WorkOS {
  const build = new Function('WorkOS', 'process', `return ${line};`) as (sdk: typeof WorkOS, process: { env: Record<string, string> }) => WorkOS;
  return build(WorkOS, { env });
}

/** The child's stdout once it matches `pattern`, or as it is after `ms`. */
function stdoutUntil(child: ChildProcessByStdio<null, Readable, Readable>, pattern: RegExp, ms = 8_000): Promise<string> {
  return new Promise((resolve) => {
    let stdout = '';
    const timer = setTimeout(() => resolve(stdout), ms);
    child.stdout.on('data', (chunk) => {
      stdout += String(chunk);
      if (!pattern.test(stdout)) return;
      clearTimeout(timer);
      resolve(stdout);
    });
  });
}

describe('fga-guard-testkit CLI', () => {
  it('serves a seed file, prints what an app needs to reach it, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, nodeArgs(['--port', '0', '--seed', writeSeed(demoSeed)]), { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const stdout = await stdoutUntil(child, /^new WorkOS\(.*\)$/m);
      const env = Object.fromEntries([...stdout.matchAll(/^(WORKOS_\w+)=(.*)$/gm)].map((match) => [match[1] ?? '', match[2] ?? '']));
      const port = /^WORKOS_API_PORT=(\d+)$/m.exec(stdout)?.[1];
      expect(env).toEqual({
        WORKOS_API_KEY: 'sk_test_testkit',
        WORKOS_CLIENT_ID: 'client_testkit',
        WORKOS_API_HOSTNAME: '127.0.0.1',
        WORKOS_API_PORT: port,
        WORKOS_API_HTTPS: 'false',
      });
      expect(stdout).toMatch(/issuer: +http:\/\/127\.0\.0\.1:\d+\/user_management\/client_testkit/);

      const line = /^new WorkOS\(.*\)$/m.exec(stdout)?.[0] ?? '';
      const workos = clientFromPrintedLine(line, env);
      expect(workos.userManagement.getJwksUrl(workos.clientId ?? '')).toBe(`http://127.0.0.1:${port}/sso/jwks/client_testkit`);
      const check = (organizationMembershipId: string) =>
        workos.authorization.check({ organizationMembershipId, permissionSlug: 'app:deploy', resourceExternalId: 'a-1', resourceTypeSlug: 'app' });
      // Answered from the seed: alice holds the permission, bob does not.
      expect(await check('om_alice')).toMatchObject({ authorized: true });
      expect(await check('om_bob')).toMatchObject({ authorized: false });
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('exits with code 2 and a message naming the entry for a bad seed', async () => {
    const { code, stderr } = await runFailing(['--port', '0', '--seed', writeSeed({ resourceTypes: [{ slug: 'project', parent: 'workspace' }] })]);
    expect(code).toBe(2);
    expect(stderr).toContain('seed.resourceTypes[0]');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('exits with code 2 for unknown options and a bad port', async () => {
    expect(await runFailing(['--colour'])).toMatchObject({ code: 2, stderr: expect.stringContaining("Unknown option '--colour'") });
    expect(await runFailing(['--port', 'eighty'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--port') });
  });
});
