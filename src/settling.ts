/**
 * A value that is either here now or on its way. The adapters' entry into the decision returns
 * one: when no I/O is needed (a remembered token, a token permission, a remembered decision) it
 * answers synchronously, so the request goes on in the same turn, with no promise allocated and
 * no microtask queued. That turn is a measurable share of a bare request (bench/README.md, What
 * makes the hot path cheap).
 */
export type Settling<T> = T | Promise<T>;

export function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}
