/**
 * The slugs of one WorkOS environment, for `createAuthorizer<Slugs>()`: guards and checks made with
 * that authorizer then take only these permission slugs (and `check` only these resource types).
 * `npx fga-guard codegen --out src/fga.d.ts` writes one (`FgaSlugs`) from the environment.
 */
export interface Slugs {
  readonly permissions: string;
  readonly resourceTypes: string;
}

/** Any slug: what an authorizer made without a type argument takes. */
export interface AnySlugs extends Slugs {
  readonly permissions: string;
  readonly resourceTypes: string;
}
