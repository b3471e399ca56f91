import { createHmac } from 'node:crypto';
import type { WorkOSEventWire } from './events.js';

export interface DeliverWebhooksOptions {
  /** The app's webhook endpoint (http or https). */
  url: string;
  /** The endpoint's signing secret, as the app gives it to `webhooks.constructEvent`. */
  secret: string;
  /** Milliseconds since the epoch to sign with (default: the time of each request); an old one makes a stale signature. */
  timestamp?: number;
  /** Milliseconds to wait for each answer (default 10 000); no answer counts as status 0. */
  timeout?: number;
}

export interface WebhookDelivery {
  /** Events answered 2xx in this call. */
  delivered: number;
  /** The status of each request in the order sent; 0 = no answer (refused, reset or timed out). */
  statuses: number[];
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** The `WorkOS-Signature` header for a body signed at `timestamp` (ms): `t=<ms>, v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. */
export function webhookSignature(secret: string, timestamp: number, rawBody: string): string {
  const signature = createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex');
  return `t=${timestamp}, v1=${signature}`;
}

async function post(url: string, body: string, signature: string, timeout: number): Promise<number> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'WorkOS-Signature': signature },
      body,
      signal: AbortSignal.timeout(timeout),
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0;
  }
}

function checkOptions(options: DeliverWebhooksOptions): void {
  let protocol: string | undefined;
  try {
    protocol = new URL(options.url).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'http:' && protocol !== 'https:') throw new TypeError('deliverWebhooks: url must be an http or https URL.');
  if (typeof options.secret !== 'string' || options.secret === '') throw new TypeError('deliverWebhooks: secret must be a non-empty string.');
  if (options.timestamp !== undefined && !Number.isFinite(options.timestamp)) throw new TypeError('deliverWebhooks: timestamp must be a number of ms.');
  if (options.timeout !== undefined && !(Number.isFinite(options.timeout) && options.timeout > 0)) {
    throw new TypeError('deliverWebhooks: timeout must be a positive number of ms.');
  }
}

/**
 * Sends recorded events to webhook endpoints as WorkOS does: one POST per event, in order, signed. Each url
 * has its own record of the events it acknowledged (2xx); any other answer leaves the event pending, and
 * the next delivery to that url sends it again, before the newer ones. Deliveries run one at a time.
 */
export class WebhookSender {
  private readonly acknowledged = new Map<string, Set<string>>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly events: () => readonly WorkOSEventWire[]) {}

  async deliver(options: DeliverWebhooksOptions): Promise<WebhookDelivery> {
    checkOptions(options);
    const run = this.queue.then(() => this.send(options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async send({ url, secret, timestamp, timeout = DEFAULT_TIMEOUT_MS }: DeliverWebhooksOptions): Promise<WebhookDelivery> {
    const acknowledged = this.acknowledged.get(url) ?? new Set<string>();
    this.acknowledged.set(url, acknowledged);
    const statuses: number[] = [];
    for (const event of this.events().filter((candidate) => !acknowledged.has(candidate.id))) {
      const body = JSON.stringify(event);
      const status = await post(url, body, webhookSignature(secret, timestamp ?? Date.now(), body), timeout);
      statuses.push(status);
      if (status >= 200 && status < 300) acknowledged.add(event.id);
    }
    return { delivered: statuses.filter((status) => status >= 200 && status < 300).length, statuses };
  }
}
