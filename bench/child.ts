import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

/** A bench process: a TypeScript entry run under tsx, spoken to by request/reply over IPC. */
export interface Child {
  process: ChildProcess;
  request<T>(message: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

export interface ChildMessage {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

/** A program that runs node for us (valgrind, say): `command ...args node ...` */
export interface Launcher {
  command: string;
  args: string[];
}

/** Starts `bench/<entry>` with `node [...nodeFlags] --import tsx`, through `launcher` if given. */
export function startChild(entry: string, nodeFlags: string[] = [], launcher?: Launcher): Child {
  const path = fileURLToPath(new URL(entry, import.meta.url));
  const nodeArgs = [...nodeFlags, '--import', 'tsx'];
  // Through a launcher, fork() runs `command ...args node ...`: the IPC channel's descriptor is
  // inherited by the node it starts.
  const child = fork(path, [], {
    ...(launcher && { execPath: launcher.command }),
    execArgv: launcher ? [...launcher.args, process.execPath, ...nodeArgs] : nodeArgs,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  child.on('message', (message: ChildMessage) => {
    const pending = waiting.get(message.id);
    if (!pending) return;
    waiting.delete(message.id);
    if (message.ok) pending.resolve(message.value);
    else pending.reject(new Error(message.error));
  });
  child.on('exit', (code) => {
    for (const pending of waiting.values()) pending.reject(new Error(`${entry} exited (${code})`));
    waiting.clear();
  });
  return {
    process: child,
    request<T>(message: Record<string, unknown>) {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
        child.send({ ...message, id });
      });
    },
    stop() {
      if (child.exitCode !== null) return Promise.resolve();
      return new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill();
      });
    },
  };
}

/** In a child: answers the parent's requests with `handle`. */
export function serve(handle: (message: Record<string, unknown>) => unknown): void {
  process.on('message', (message: Record<string, unknown> & { id: number }) => {
    Promise.resolve()
      .then(() => handle(message))
      .then(
        (value) => process.send!({ id: message.id, ok: true, value } satisfies ChildMessage),
        (error: unknown) => process.send!({ id: message.id, ok: false, error: String((error as Error)?.stack ?? error) } satisfies ChildMessage),
      );
  });
  process.on('disconnect', () => process.exit(0));
}

/**
 * Pins a process (all its threads: JIT, GC) to one CPU with `taskset`, where there is one. The app
 * servers get a CPU of their own and the load generator and the kit share the other, so a
 * scenario's throughput is not decided by how the scheduler happens to mix the processes. Returns
 * false when pinning is not possible (no taskset, one CPU): the bench then runs unpinned.
 */
export function pinToCpu(pid: number, cpu: number): boolean {
  // os.cpus(), not availableParallelism(): the latter shrinks once this process is pinned.
  if (cpus().length < 2) return false;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', String(cpu), String(pid)], { stdio: 'ignore' });
      return true;
    } catch {
      // Tried again before giving up (why taskset failed in the runs that went unpinned is not known).
    }
  }
  return false;
}
