// Issue #24: `npx fga-guard doctor` and `npx fga-guard codegen`, run as a user would, against the test kit.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestKit, type TestKit } from '../testing/index.js';
import { testSeed } from './support/model.js';

const cli = fileURLToPath(new URL('../tools/fga-guard.ts', import.meta.url));
const fixtureApp = fileURLToPath(new URL('./fixtures/doctor-app.ts', import.meta.url));
const generatedTypes = fileURLToPath(new URL('./types/fga.d.ts', import.meta.url));

let kit: TestKit;
beforeAll(async () => {
  kit = await createTestKit({ seed: testSeed });
});
afterAll(() => kit.close());

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const kitEnv = {
    WORKOS_API_KEY: kit.apiKey,
    WORKOS_CLIENT_ID: kit.clientId,
    WORKOS_API_HOSTNAME: '127.0.0.1',
    WORKOS_API_PORT: String(kit.port),
    WORKOS_API_HTTPS: 'false',
  };
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', cli, ...args], { env: { PATH: process.env.PATH, ...kitEnv, ...env }, timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

function seedFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'fga-doctor-')), 'model.json');
  writeFileSync(file, JSON.stringify(testSeed));
  return file;
}

describe('fga-guard doctor', () => {
  it('exits 0 when every check passes', async () => {
    const { code, stdout } = await run(['doctor', '--permissions', 'project:edit,workspace:view', '--resource-types', 'project']);
    expect(stdout).toMatch(/ok {3}permissions: all 2 permission slugs named by guards exist/);
    expect(stdout).not.toMatch(/FAIL/);
    expect(code).toBe(0);
  }, 30_000);

  it('exits 1 and names what is wrong, with a fix', async () => {
    const { code, stdout } = await run(['doctor', '--permissions', 'projct:edit']);
    expect(stdout).toMatch(/FAIL permissions: .*"projct:edit" \(did you mean "project:edit"\?\)/);
    expect(stdout).toMatch(/fix: Create them in the WorkOS dashboard/);
    expect(code).toBe(1);
    const wrongClient = await run(['doctor'], { WORKOS_CLIENT_ID: 'client_wrong' });
    expect(wrongClient.stdout).toMatch(/FAIL jwks: .*answered 404/);
    expect(wrongClient.code).toBe(1);
    const wrongKey = await run(['doctor'], { WORKOS_API_KEY: 'sk_test_wrong' });
    expect(wrongKey.stdout).toMatch(/FAIL api_key: WorkOS refused the API key \(401\)/);
    expect(wrongKey.stdout + wrongKey.stderr).not.toContain('sk_test_wrong');
  }, 30_000);

  it('--app audits the exported apps and routers and checks their guards’ slugs', async () => {
    const { code, stdout } = await run(['doctor', '--app', fixtureApp]);
    expect(stdout).toMatch(/routes of app:/);
    expect(stdout).toMatch(/GET {4}\/health {2}NO GUARD/);
    expect(stdout).toMatch(/DELETE \/projects\/:id {2}requirePermission\(project:delete\)/);
    expect(stdout).toMatch(/routes of router:[\s\S]*POST {3}\/workspaces\/:id {2}requirePermission\(workspace:edit\)/);
    expect(stdout).toMatch(/FAIL permissions: .*"project:delete"/);
    expect(stdout).toMatch(/FAIL resource_types: .*"Project" \(did you mean "project"\?\)/);
    expect(code).toBe(1);
  }, 30_000);

  it('refuses bad input with exit code 2', async () => {
    expect((await run(['doctr'])).code).toBe(2);
    expect((await run(['doctor'], { WORKOS_API_KEY: '' })).stderr).toMatch(/WORKOS_API_KEY is not set/);
  }, 30_000);
});

describe('fga-guard codegen', () => {
  it('--seed writes the slugs as string-literal unions; the checked-in test/types/fga.d.ts is its output', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'fga-codegen-')), 'fga.d.ts');
    const { code } = await run(['codegen', '--out', out, '--seed', seedFile()]);
    expect(code).toBe(0);
    const written = readFileSync(out, 'utf8');
    expect(written).toMatch(/export type PermissionSlug =\n {2}\| "app:deploy"\n {2}\| "project:edit"/);
    expect(written).toMatch(/export type ResourceTypeSlug =\n {2}\| "app"\n {2}\| "project"\n {2}\| "workspace";/);
    expect(written.replace(/from the test-kit seed \S+\./, 'from the test-kit seed.')).toBe(readFileSync(generatedTypes, 'utf8'));
  }, 30_000);

  it('from the API: the environment’s permissions and resource types', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'fga-codegen-')), 'fga.d.ts');
    const { code, stdout } = await run(['codegen', '--out', out]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/wrote 5 permission slugs and 2 resource types/);
    expect(readFileSync(out, 'utf8')).toMatch(/"app:deploy"[\s\S]*"workspace:view";[\s\S]*"project"\n {2}\| "workspace";/);
  }, 30_000);
});
