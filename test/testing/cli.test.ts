import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

describe('fga-guard-testkit CLI', () => {
  it('serves a seed file, prints the connection details, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, nodeArgs(['--port', '0', '--seed', writeSeed(demoSeed)]), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    for await (const chunk of child.stdout) {
      stdout += String(chunk);
      if (stdout.includes('WORKOS_API_PORT=')) break;
    }
    const env = Object.fromEntries([...stdout.matchAll(/^(WORKOS_\w+)=(.*)$/gm)].map((match) => [match[1], match[2]]));
    expect(env).toMatchObject({ WORKOS_API_KEY: 'sk_test_testkit', WORKOS_CLIENT_ID: 'client_testkit', WORKOS_API_HOSTNAME: '127.0.0.1' });
    expect(stdout).toMatch(/issuer: +http:\/\/127\.0\.0\.1:\d+\/user_management\/client_testkit/);

    const workos = new WorkOS(env.WORKOS_API_KEY, { apiHostname: env.WORKOS_API_HOSTNAME, port: Number(env.WORKOS_API_PORT), https: false });
    const result = await workos.authorization.check({
      organizationMembershipId: 'om_alice',
      permissionSlug: 'app:deploy',
      resourceExternalId: 'a-1',
      resourceTypeSlug: 'app',
    });
    expect(result.authorized).toBe(true);

    child.kill('SIGTERM');
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
