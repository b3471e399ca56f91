export interface Fault {
  /** Respond with this status; body defaults to `{ code: 'injected_fault', message: 'Injected fault' }`. */
  status?: number;
  /** Object → JSON; string → sent raw (content-type text/html unless `headers` say otherwise). */
  body?: unknown;
  /** Extra response headers, e.g. `{ 'Retry-After': '1' }`. */
  headers?: Record<string, string>;
  /** Milliseconds before answering; on its own, delays the normal answer. */
  delay?: number;
  /** Destroy the socket without answering (connection reset). */
  drop?: boolean;
  /** Apply to the next N matching calls only (default: until removed). */
  times?: number;
}

interface InjectedFault<Endpoint extends string> {
  endpoint: Endpoint | '*';
  fault: Fault;
  remaining: number;
}

/** Faults waiting to hit matching calls, in injection order (the oldest matching one applies). */
export class FaultRegistry<Endpoint extends string> {
  private faults: InjectedFault<Endpoint>[] = [];

  inject(endpoint: Endpoint | '*', fault: Fault): () => void {
    const entry = { endpoint, fault, remaining: fault.times ?? Number.POSITIVE_INFINITY };
    this.faults.push(entry);
    return () => {
      this.faults = this.faults.filter((candidate) => candidate !== entry);
    };
  }

  clear(): void {
    this.faults = [];
  }

  /** The fault for this call, if any, using up one of its `times`. */
  take(endpoint: Endpoint | undefined): Fault | undefined {
    const entry = this.faults.find((candidate) => candidate.endpoint === '*' || candidate.endpoint === endpoint);
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.faults = this.faults.filter((candidate) => candidate !== entry);
    return entry.fault;
  }
}

/** Calls served per endpoint (faulted ones included). */
export class CallCounters<Endpoint extends string> {
  private counts = new Map<Endpoint, number>();

  record(endpoint: Endpoint): void {
    this.counts.set(endpoint, (this.counts.get(endpoint) ?? 0) + 1);
  }

  count(endpoint?: Endpoint): number {
    if (endpoint !== undefined) return this.counts.get(endpoint) ?? 0;
    let total = 0;
    for (const count of this.counts.values()) total += count;
    return total;
  }

  reset(): void {
    this.counts.clear();
  }
}
