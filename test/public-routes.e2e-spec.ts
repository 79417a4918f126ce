import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { ModulesContainer } from '@nestjs/core';
import { BetterAuthIssuer } from './support/better-auth-issuer';
import { startTestApp, TestApp } from './support/test-app';

/**
 * Which operations are open to anonymous callers, and what each needs beyond a valid token (a
 * role, an organization role, the OAuth scopes that let an access token call it), recorded here
 * on purpose: opening a route, making one optional, or changing what it needs changes these
 * lists, so it shows up in review as a permission change. A route without scopes refuses OAuth
 * access tokens. The suite also checks that the guard does what the document says, that no
 * route is missing from the document, and that every error answer is documented as
 * problem+json.
 */

type AuthMode = 'public' | 'optional' | 'bearer';

const EXPECTED_AUTH: Record<string, AuthMode> = {
  'GET /api/health': 'public',
  'GET /api/health/ready': 'public',
  'GET /api/profile': 'bearer',
  'GET /api/todos': 'bearer',
  'POST /api/todos': 'bearer',
  'GET /api/todos/{id}': 'bearer',
  'PATCH /api/todos/{id}': 'bearer',
  'DELETE /api/todos/{id}': 'bearer',
  'GET /api/organization': 'bearer',
  'GET /api/organization/admin-check': 'bearer',
  'GET /api/admin/stats': 'bearer',
};

interface Needs {
  roles?: string[];
  organizationRoles?: string[];
  /** Any one of them lets an OAuth access token call the operation; absent: no access token. */
  scopes?: string[];
}

const EXPECTED_NEEDS: Record<string, Needs> = {
  'GET /api/health': {},
  'GET /api/health/ready': {},
  'GET /api/profile': { scopes: ['profile', 'openid'] },
  'GET /api/todos': { scopes: ['todos:read'] },
  'POST /api/todos': { scopes: ['todos:write'] },
  'GET /api/todos/{id}': { scopes: ['todos:read'] },
  'PATCH /api/todos/{id}': { scopes: ['todos:write'] },
  'DELETE /api/todos/{id}': { scopes: ['todos:write'] },
  'GET /api/organization': {},
  'GET /api/organization/admin-check': { organizationRoles: ['owner', 'admin'] },
  'GET /api/admin/stats': { roles: ['admin'] },
};

/** Served outside /api and outside the document: discovery metadata, not an API operation. */
const UNDOCUMENTED_ROUTES = ['GET /.well-known/oauth-protected-resource'];

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'] as const;
const PROBLEM_REF = '#/components/schemas/Problem';

interface Operation {
  operationId?: string;
  'x-required-roles'?: string[];
  'x-required-organization-roles'?: string[];
  'x-required-scopes'?: string[];
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string; required?: boolean; $ref?: string }>;
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { description?: string; content?: Record<string, unknown> }>;
}

interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  security?: Array<Record<string, string[]>>;
  paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
}

function authMode(operation: Operation): string {
  const security = JSON.stringify(operation.security);
  if (security === '[]') return 'public';
  if (security === '[{"bearer":[]}]') return 'bearer';
  if (security === '[{},{"bearer":[]}]') return 'optional';
  return `unexpected security ${security}`;
}

describe('public routes and the OpenAPI document', () => {
  let issuer: BetterAuthIssuer;
  let api: TestApp;
  let doc: OpenApiDocument;
  let operations: Array<{ key: string; path: string; method: string; operation: Operation }>;

  beforeAll(async () => {
    issuer = await BetterAuthIssuer.start();
    api = await startTestApp({ BETTER_AUTH_URL: issuer.url });
    const response = await api.http.get('/docs/json');
    expect(response.status).toBe(200);
    doc = response.body as OpenApiDocument;
    operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      METHODS.filter((method) => item[method]).map((method) => ({
        key: `${method.toUpperCase()} ${path}`,
        path,
        method,
        operation: item[method] as Operation,
      })),
    );
  });

  afterAll(async () => {
    await api?.close();
    await issuer?.close();
  });

  it('opens exactly these operations to anonymous callers (a change here is a permission change)', () => {
    const actual = Object.fromEntries(
      operations.map(({ key, operation }) => [key, authMode(operation)]),
    );
    expect(actual).toEqual(EXPECTED_AUTH);
  });

  it('requires exactly these roles and scopes (a change here is a permission change)', () => {
    const actual = Object.fromEntries(
      operations.map(({ key, operation }) => {
        const needs: Needs = {};
        if (operation['x-required-roles']) needs.roles = operation['x-required-roles'];
        if (operation['x-required-organization-roles']) {
          needs.organizationRoles = operation['x-required-organization-roles'];
        }
        if (operation['x-required-scopes']) needs.scopes = operation['x-required-scopes'];
        return [key, needs];
      }),
    );
    expect(actual).toEqual(EXPECTED_NEEDS);
  });

  it('documents every route the app serves', () => {
    const served: string[] = [];
    for (const module of api.app.get(ModulesContainer).values()) {
      for (const { metatype } of module.controllers.values()) {
        if (typeof metatype !== 'function') continue;
        const base = String(Reflect.getMetadata(PATH_METADATA, metatype) ?? '');
        const prototype = metatype.prototype as Record<string, unknown>;
        for (const name of Object.getOwnPropertyNames(prototype)) {
          const handler = prototype[name];
          if (name === 'constructor' || typeof handler !== 'function') continue;
          const route = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
          const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
          if (route === undefined || method === undefined) continue;
          const prefix = base.startsWith('.well-known') ? '' : 'api';
          const path = [prefix, base, route]
            .map((part) => part.replace(/^\/+|\/+$/g, ''))
            .filter((part) => part !== '')
            .join('/')
            .replace(/:(\w+)/g, '{$1}');
          served.push(`${RequestMethod[method]} /${path}`);
        }
      }
    }
    expect(served.sort()).toEqual([...Object.keys(EXPECTED_AUTH), ...UNDOCUMENTED_ROUTES].sort());
  });

  it('is enforced by the guard as documented: anonymous calls get 401 exactly where a token is required', async () => {
    for (const { key, path, method, operation } of operations) {
      const url = path.replace(/\{\w+\}/g, '0b9f4a53-2f6c-4c55-9a43-7d3e5f7c1a20');
      const response = await api.http.request(method.toUpperCase(), url, {
        jsonText: operation.requestBody ? '{}' : undefined,
      });
      const observed = {
        key,
        status: response.status === 401 ? 401 : 'not 401',
        challenge: response.headers.get('www-authenticate'),
      };
      if (authMode(operation) === 'bearer') {
        expect(observed).toEqual({ key, status: 401, challenge: 'Bearer realm="api"' });
      } else {
        expect(observed).toEqual({ key, status: 'not 401', challenge: null });
      }
    }
  });

  it('is a well-formed OpenAPI 3 document with the bearer security scheme', () => {
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(doc.components.securitySchemes).toEqual({
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }),
    });
    // Deny by default in the document too: an operation that says nothing needs the token.
    expect(doc.security).toEqual([{ bearer: [] }]);

    const operationIds = operations.map(({ operation }) => operation.operationId);
    expect(operationIds.every((id) => typeof id === 'string' && id !== '')).toBe(true);
    expect(new Set(operationIds).size).toBe(operationIds.length);

    for (const { key, path, operation } of operations) {
      expect({ key, path: path.startsWith('/api/') }).toEqual({ key, path: true });
      // Every security requirement names a declared scheme.
      for (const requirement of operation.security ?? []) {
        for (const scheme of Object.keys(requirement)) {
          expect(doc.components.securitySchemes).toHaveProperty(scheme);
        }
      }
      // Every {param} in the path is a required path parameter, and the other way round.
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => name).sort();
      const declared = (operation.parameters ?? [])
        .filter((parameter) => parameter.in === 'path')
        .map((parameter) => {
          expect({ key, name: parameter.name, required: parameter.required }).toEqual({
            key,
            name: parameter.name,
            required: true,
          });
          return parameter.name;
        })
        .sort();
      expect({ key, declared }).toEqual({ key, declared: templated });
      expect(Object.keys(operation.responses).length).toBeGreaterThan(0);
      for (const [status, response] of Object.entries(operation.responses)) {
        expect({ key, status, valid: /^[1-5]\d\d$|^default$/.test(status) }).toEqual({
          key,
          status,
          valid: true,
        });
        expect({ key, status, description: typeof response.description }).toEqual({
          key,
          status,
          description: 'string',
        });
      }
    }

    // Every $ref points at something the document defines.
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map(([, ref]) => ref);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of new Set(refs)) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas).toHaveProperty(ref.slice('#/components/schemas/'.length));
    }
  });

  it('documents every error answer as application/problem+json with the problem schema', () => {
    for (const { key, operation } of operations) {
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) < 400) continue;
        expect({ key, status, content: response.content }).toEqual({
          key,
          status,
          content: {
            'application/problem+json': {
              schema: { $ref: PROBLEM_REF },
              examples: expect.any(Object) as object,
            },
          },
        });
      }
    }
  });

  it('documents the errors each kind of operation can actually answer', () => {
    for (const { key, path, operation } of operations) {
      const statuses = Object.keys(operation.responses);
      const expected: string[] = [];
      if (authMode(operation) !== 'public') expected.push('401', '429', '503');
      if (operation.requestBody) expected.push('400', '413', '415');
      if (path.includes('{')) expected.push('400', '404');
      if (path === '/api/health/ready') expected.push('503');
      if (operation['x-required-roles'] || operation['x-required-organization-roles']) {
        expected.push('403');
      }
      expect({ key, missing: expected.filter((status) => !statuses.includes(status)) }).toEqual({
        key,
        missing: [],
      });
      // Bodies are JSON only, and the document says so.
      if (operation.requestBody) {
        expect(Object.keys(operation.requestBody.content)).toEqual(['application/json']);
      }
    }
  });

  it('keeps server-owned fields out of the documented request bodies', () => {
    for (const name of ['CreateTodo', 'UpdateTodo']) {
      const schema = doc.components.schemas[name] as { properties: Record<string, unknown> };
      expect(Object.keys(schema.properties).sort()).toEqual(['completed', 'description', 'title']);
    }
  });
});
