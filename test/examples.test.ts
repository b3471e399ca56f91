import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';

/**
 * `npm start` is the README's first command: run it (with the port left to the OS) and replay the
 * curl lines it prints, checking each answers the status its comment promises.
 */
describe.each(['express', 'koa', 'fastify', 'hono'])('npm start (%s example, offline on the test kit)', (framework) => {
  let child: ChildProcess | undefined;
  afterEach(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  it('prints curl lines that answer as promised', async () => {
    const args = ['--import', 'tsx', 'examples/start.ts', ...(framework === 'express' ? [] : [`--${framework}`])];
    child = spawn(process.execPath, args, { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout!.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      child!.once('exit', (code) => reject(new Error(`example exited early with ${code}: ${output}`)));
      child!.stdout!.on('data', (chunk: string) => {
        output += chunk;
        if (output.includes('Ctrl-C to stop')) resolve();
      });
    });

    expect(output).toContain(`fga-guard ${framework} example on http://127.0.0.1:`);
    const promises = [...output.matchAll(/^# (\d{3}): .*\ncurl -i -X (\w+) '(\S+)'(?: -H 'Authorization: (.+)')?$/gm)];
    expect(promises.map((m) => Number(m[1]))).toEqual([200, 200, 403, 200, 200, 401]);
    const bodies: unknown[] = [];
    for (const [, status, method, url, authorization] of promises) {
      const res = await fetch(url!, { method, headers: authorization ? { Authorization: authorization } : {} });
      expect(res.status, `${method} ${url}`).toBe(Number(status));
      bodies.push(await res.json());
    }
    expect(bodies[3]).toEqual({ workspace: 'ws-1', projects: ['p-2'] });
    expect(bodies[4]).toEqual({ project: 'p-2', via: 'project:view' });
  });
});
