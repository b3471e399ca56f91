import { fork, type ChildProcess } from 'node:child_process';
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

/** Starts `bench/<entry>` with `node [...nodeFlags] --import tsx`. */
export function startChild(entry: string, nodeFlags: string[] = []): Child {
  const path = fileURLToPath(new URL(entry, import.meta.url));
  const child = fork(path, [], { execArgv: [...nodeFlags, '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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
