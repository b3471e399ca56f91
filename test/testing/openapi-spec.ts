import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

const SPEC_PATH = fileURLToPath(new URL('./fixtures/workos-openapi-authorization.yaml', import.meta.url));

export interface SpecOperation {
  method: string;
  /** The spec's path template, e.g. `/authorization/resources/{resource_id}`. */
  path: string;
  statuses: string[];
}

interface PathItem {
  [method: string]: { responses?: Record<string, { content?: Record<string, unknown> }> };
}

const escapePointer = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

/** The WorkOS OpenAPI subset, with a validator for any response it documents. */
export class OpenApiSpec {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly paths: Record<string, PathItem>;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(file = SPEC_PATH) {
    const document = parse(readFileSync(file, 'utf8')) as { paths: Record<string, PathItem> };
    this.paths = document.paths;
    addFormats.default(this.ajv);
    this.ajv.addSchema(document as object, 'spec');
  }

  operations(): SpecOperation[] {
    return Object.entries(this.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => ({
        method: method.toUpperCase(),
        path,
        statuses: Object.keys(operation.responses ?? {}),
      })),
    );
  }

  /** The spec path template a concrete path matches; literal segments win over parameters. */
  match(method: string, concretePath: string): SpecOperation | undefined {
    const candidates = this.operations().filter(
      (operation) =>
        operation.method === method &&
        new RegExp(`^${operation.path.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(concretePath),
    );
    const parameterCount = (path: string) => (path.match(/\{/g) ?? []).length;
    return candidates.sort((a, b) => parameterCount(a.path) - parameterCount(b.path))[0];
  }

  /** Errors (empty when valid) of a response body against the operation's documented response. */
  validate(operation: SpecOperation, status: number, body: unknown): string[] {
    const item = this.paths[operation.path]?.[operation.method.toLowerCase()];
    const response = item?.responses?.[String(status)];
    if (!response) return [`status ${status} is not documented (documented: ${operation.statuses.join(', ')})`];
    if (!response.content) return body === undefined ? [] : [`status ${status} documents no body, got ${JSON.stringify(body)}`];
    const pointer = ['paths', operation.path, operation.method.toLowerCase(), 'responses', String(status), 'content', 'application/json', 'schema']
      .map(escapePointer)
      .join('/');
    const key = `spec#/${pointer}`;
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile({ $ref: key });
      this.validators.set(key, validate);
    }
    return validate(body) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? ''} ${JSON.stringify(error.params)}`);
  }
}
