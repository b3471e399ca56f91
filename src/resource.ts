/** A stored WorkOS resource id, or the external id your app uses plus the resource type slug. */
export type ResourceRef<Type extends string = string> = { id: string } | { type: Type; externalId: string };

/** Ids longer than this cannot name a WorkOS resource; they are denied without an API call. */
const MAX_ID_LENGTH = 512;

export type ResourceValidity = 'valid' | 'too_long';

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/**
 * Checks the shape of a resource reference. A wrong shape is a programming error in the app
 * (TypeError); an over-long id is client input that simply cannot be granted.
 */
export function validateResource(resource: unknown): ResourceValidity {
  if (typeof resource !== 'object' || resource === null) {
    throw new TypeError('fga-guard: resource must be { id } or { type, externalId }');
  }
  const ref = resource as Record<string, unknown>;
  if ('id' in ref) {
    if (!isNonEmptyString(ref.id)) throw new TypeError('fga-guard: resource.id must be a non-empty string');
    return ref.id.length > MAX_ID_LENGTH ? 'too_long' : 'valid';
  }
  if (!isNonEmptyString(ref.type) || !isNonEmptyString(ref.externalId)) {
    throw new TypeError('fga-guard: resource must be { id } or { type, externalId } with non-empty strings');
  }
  return ref.type.length > MAX_ID_LENGTH || ref.externalId.length > MAX_ID_LENGTH ? 'too_long' : 'valid';
}

/**
 * Length-prefixed join: no two different part lists give the same key, whatever characters the
 * parts hold (`a:b` + `c` never meets `a` + `b:c`).
 */
export function cacheKey(...parts: string[]): string {
  let key = '';
  for (const part of parts) key += `${part.length}:${part}`;
  return key;
}

/** The parameters `workos.authorization.check` takes for this resource. */
export function checkTarget(
  resource: ResourceRef,
): { resourceId: string } | { resourceExternalId: string; resourceTypeSlug: string } {
  return 'id' in resource
    ? { resourceId: resource.id }
    : { resourceExternalId: resource.externalId, resourceTypeSlug: resource.type };
}
