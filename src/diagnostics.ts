// Configuration mistakes noticed at run time, told once per authorizer (not once per request) with a fix.

/** Which mistake: each is reported once per authorizer (per slug for the last two). */
export type DiagnosticCode = 'jwks_not_found' | 'api_key_refused' | 'unknown_permission' | 'unknown_resource_type';

export interface Diagnostic {
  readonly code: DiagnosticCode;
  /** What went wrong, without secrets: no token, no API key. */
  readonly message: string;
  /** How to fix it. */
  readonly hint: string;
  /** The permission slug or resource type slug WorkOS did not know. */
  readonly slug?: string;
}

/** Receives `fga-guard: <message> <hint>` and the diagnostic itself; `console.warn` fits. */
export type Logger = (message: string, diagnostic: Diagnostic) => void;

/** Distinct mistakes kept at most: slugs come from code, but a resolver could feed request input. */
const MAX_REPORTED = 200;

export class Diagnostics {
  private readonly reported = new Set<string>();

  constructor(private readonly logger: Logger | false) {}

  /** Reports the mistake unless it was reported before; a logger that throws is ignored. */
  report(diagnostic: Diagnostic): void {
    const key = `${diagnostic.code}\u0000${diagnostic.slug ?? ''}`;
    if (this.logger === false || this.reported.has(key) || this.reported.size >= MAX_REPORTED) return;
    this.reported.add(key);
    try {
      this.logger(`fga-guard: ${diagnostic.message} ${diagnostic.hint}`, diagnostic);
    } catch {
      // A logger must not change the answer.
    }
  }

  jwksNotFound(jwksUrl: URL, clientId: string): void {
    this.report({
      code: 'jwks_not_found',
      message: `the JWKS at ${jwksUrl.href} answered 404, so every request answers 503.`,
      hint: `Check the client id (${clientId}): set WORKOS_CLIENT_ID (or clientId) to the client id of this WorkOS environment (client_…), or fix jwksUrl.`,
    });
  }

  apiKeyRefused(status: number): void {
    this.report({
      code: 'api_key_refused',
      message: `WorkOS answered ${status} to fga-guard's API key, so every decision that asks WorkOS answers 503.`,
      hint: "Set WORKOS_API_KEY (or apiKey) to a secret key (sk_…) of the same environment as the client id, and make sure it has not been revoked.",
    });
  }

  unknownPermission(slug: string): void {
    this.report({
      code: 'unknown_permission',
      slug,
      message: `WorkOS does not know the permission "${slug}", so every check of it is denied.`,
      hint: 'Create it in the WorkOS dashboard (Authorization > Permissions) or fix the slug in the guard; `npx fga-guard doctor` lists them all.',
    });
  }

  unknownResourceType(slug: string): void {
    this.report({
      code: 'unknown_resource_type',
      slug,
      message: `WorkOS does not know the resource type "${slug}", so every check on it is denied.`,
      hint: 'Resource type slugs are case-sensitive: use the slug shown in the WorkOS dashboard (Authorization > Resource types).',
    });
  }
}

/** The diagnostics of the authorizer that made a WorkOS client (fga-guard makes one per authorizer). */
const byClient = new WeakMap<object, Diagnostics>();

export function watchClient(client: object, diagnostics: Diagnostics): void {
  byClient.set(client, diagnostics);
}

export function diagnosticsOf(client: object): Diagnostics | undefined {
  return byClient.get(client);
}

/** `console.warn` unless the logger is false; TypeError for anything else that is not a function. */
export function resolveLogger(logger: unknown): Logger | false {
  if (logger === undefined) return (message) => console.warn(message);
  if (logger === false || typeof logger === 'function') return logger as Logger | false;
  throw new TypeError('fga-guard: logger must be a function (message, diagnostic) or false');
}
