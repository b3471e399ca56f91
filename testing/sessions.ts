/** A session the kit knows from the tokens it signed (by their `sid`). */
export interface SessionRecord {
  id: string;
  /** null when no token of the session named its user. */
  userId: string | null;
  organizationId?: string;
  createdAt: string;
  /** The latest `exp` among the session's tokens. */
  expiresAt: string;
  revokedAt?: string;
}

/** A claim in seconds as an ISO date; undefined for anything that is not a date (a fuzzed `exp` may be out of range). */
function isoFromSeconds(seconds: unknown): string | undefined {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return undefined;
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** The sessions behind the tokens the kit signed, so that revoking one names its user and organization. */
export class SessionRegistry {
  private readonly sessions = new Map<string, SessionRecord>();

  /** Notes the session of a token payload about to be signed (anything but an object with a string `sid` is ignored). */
  remember(payload: unknown): void {
    if (typeof payload !== 'object' || payload === null) return;
    const { sid, sub, org_id: organizationId, exp } = payload as Record<string, unknown>;
    if (typeof sid !== 'string') return;
    const expiresAt = isoFromSeconds(exp);
    const known = this.sessions.get(sid);
    if (known) {
      if (expiresAt && expiresAt > known.expiresAt) known.expiresAt = expiresAt;
      return;
    }
    const now = new Date().toISOString();
    this.sessions.set(sid, {
      id: sid,
      userId: typeof sub === 'string' ? sub : null,
      ...(typeof organizationId === 'string' ? { organizationId } : {}),
      createdAt: now,
      expiresAt: expiresAt ?? now,
    });
  }

  find(sessionId: string): SessionRecord | undefined {
    return this.sessions.get(sessionId);
  }

  /** Marks the session revoked; an unknown one is recorded with what `known` tells (at least its id). */
  revoke(sessionId: string, known: { user?: string; organization?: string } = {}): SessionRecord {
    const now = new Date().toISOString();
    const session = this.sessions.get(sessionId) ?? { id: sessionId, userId: null, createdAt: now, expiresAt: now };
    session.userId ??= known.user ?? null;
    session.organizationId ??= known.organization;
    session.revokedAt = now;
    this.sessions.set(sessionId, session);
    return session;
  }
}

/** A session as WorkOS sends it (`session.revoked`'s data); the kit does not know how or from where it was signed in. */
export function serializeSession(session: SessionRecord) {
  const updatedAt = session.revokedAt ?? session.createdAt;
  return {
    object: 'session',
    id: session.id,
    user_id: session.userId,
    ...(session.organizationId === undefined ? {} : { organization_id: session.organizationId }),
    status: session.revokedAt ? 'revoked' : 'active',
    auth_method: 'unknown',
    ip_address: null,
    user_agent: null,
    expires_at: session.expiresAt,
    ended_at: session.revokedAt ?? null,
    created_at: session.createdAt,
    updated_at: updatedAt,
  };
}
