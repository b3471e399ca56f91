/** A permission slug or resource type slug named by a check, which the kit's model does not hold. */
export interface UnknownSlug {
  readonly kind: 'permission' | 'resource_type';
  readonly slug: string;
}

/** What checks named that the model did not hold, once each, in the order first seen. */
export class UnknownSlugLog {
  private readonly seen = new Map<string, UnknownSlug>();

  record(kind: UnknownSlug['kind'], slug: string): void {
    const key = `${kind}\u0000${slug}`;
    if (!this.seen.has(key)) this.seen.set(key, { kind, slug });
  }

  all(): UnknownSlug[] {
    return [...this.seen.values()].map((entry) => ({ ...entry }));
  }
}
