import { DataSource } from 'typeorm';
import { AuthzIssuer, AuthzUser } from './support/authz-issuer';
import { BetterAuthIssuer } from './support/better-auth-issuer';
import { expectProblem } from './support/problem';
import {
  dropScratchDatabases,
  migratedDataSource,
  scratchDatabase,
} from './support/scratch-database';
import { startTestApp, TestApp } from './support/test-app';

/**
 * Roles (Better Auth's admin plugin) and organizations (its organization plugin, with the
 * README's definePayload recipe), against a real Better Auth server and the real app. The app
 * has a database of its own, so the admin counts are exact.
 */
describe('roles and organizations from Better Auth session JWTs', () => {
  let issuer: AuthzIssuer;
  let api: TestApp;
  let database: DataSource;
  let adminUser: AuthzUser;
  let plainUser: AuthzUser;

  beforeAll(async () => {
    issuer = await AuthzIssuer.start();
    const url = await scratchDatabase('todo_authz');
    database = await migratedDataSource(url, 1);
    api = await startTestApp({ BETTER_AUTH_URL: issuer.url, DATABASE_URL: url });
    adminUser = await issuer.createUser('Admin');
    issuer.setRole(adminUser, 'user,admin');
    plainUser = await issuer.createUser('Plain');
  });

  afterAll(async () => {
    await api?.close();
    await database?.destroy();
    await dropScratchDatabases();
    await issuer?.close();
  });

  describe('GET /api/admin/stats (role admin)', () => {
    it('gives an administrator counts only, and nobody else anything', async () => {
      const plain = api.http.as(await issuer.sessionJwt(plainUser));
      for (const title of ['one', 'two']) {
        expect((await plain.post('/api/todos', { title })).status).toBe(201);
      }
      // A todo created two days ago counts among the todos but not among the last 24 hours.
      await database.query(
        `INSERT INTO todos (user_id, title, created_at, updated_at)
         VALUES ('someone-else', 'old', now() - interval '2 days', now() - interval '2 days')`,
      );

      const reply = await api.http.as(await issuer.sessionJwt(adminUser)).get('/api/admin/stats');
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ usersWithTodos: 2, todos: 3, todosCreatedLast24h: 2 });
      expect(reply.headers.get('cache-control')).toBe('no-store');

      const refused = await plain.get('/api/admin/stats');
      expectProblem(refused, {
        status: 403,
        detail: 'This route needs one of these roles: admin.',
      });
      expect(refused.headers.get('www-authenticate')).toBeNull();
      expect(api.logs.forRequest(refused, { msg: 'authorization refused' })).toEqual([
        expect.objectContaining({ level: 'warn', reason: 'missing role', status: 403 }),
      ]);
    });

    it('needs a token at all (401, not 403)', async () => {
      expectProblem(await api.http.get('/api/admin/stats'), {
        status: 401,
        wwwAuthenticate: 'Bearer realm="api"',
      });
    });

    it('refuses a role claim forged on a token of another issuer (401, the role is never read)', async () => {
      const other = await BetterAuthIssuer.start();
      try {
        const forged = await other.signPayload({
          sub: adminUser.id,
          role: 'admin',
          iss: issuer.url,
          aud: issuer.url,
        });
        const reply = await api.http.as(forged).get('/api/admin/stats');
        expectProblem(reply, {
          status: 401,
          wwwAuthenticate:
            'Bearer realm="api", error="invalid_token", error_description="signing key not found in the JWKS"',
        });
      } finally {
        await other.close();
      }
    });
  });

  describe('organizations', () => {
    let owner: AuthzUser;
    let member: AuthzUser;
    let acme: string;
    let globex: string;

    beforeAll(async () => {
      owner = await issuer.createUser('Owner');
      member = await issuer.createUser('Member');
      acme = await issuer.createOrganization(owner, 'Acme');
      globex = await issuer.createOrganization(member, 'Globex');
      await issuer.addMember(acme, member, 'member');
    });

    it('gives @CurrentOrganization() the active organization and the role from the token', async () => {
      await issuer.setActiveOrganization(owner, acme);
      const reply = await api.http.as(await issuer.sessionJwt(owner)).get('/api/organization');
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ id: acme, roles: ['owner'] });

      await issuer.setActiveOrganization(member, acme);
      const asMember = await api.http.as(await issuer.sessionJwt(member)).get('/api/organization');
      expect(asMember.body).toEqual({ id: acme, roles: ['member'] });

      await issuer.setActiveOrganization(member, globex);
      const asOwner = await api.http.as(await issuer.sessionJwt(member)).get('/api/organization');
      expect(asOwner.body).toEqual({ id: globex, roles: ['owner'] });
    });

    it('applies @OrgRoles() to the role in the active organization only', async () => {
      await issuer.setActiveOrganization(owner, acme);
      const ownerReply = await api.http
        .as(await issuer.sessionJwt(owner))
        .get('/api/organization/admin-check');
      expect(ownerReply.status).toBe(200);

      await issuer.setActiveOrganization(member, acme);
      const memberToken = await issuer.sessionJwt(member);
      expectProblem(await api.http.as(memberToken).get('/api/organization/admin-check'), {
        status: 403,
        detail: 'This route needs one of these roles in the active organization: owner, admin.',
      });

      // The same user owns Globex: the role follows the active organization.
      await issuer.setActiveOrganization(member, globex);
      const globexReply = await api.http
        .as(await issuer.sessionJwt(member))
        .get('/api/organization/admin-check');
      expect(globexReply.body).toEqual({ id: globex, roles: ['owner'] });
    });

    it('answers 403 when no organization is active, on both kinds of route', async () => {
      await issuer.setActiveOrganization(owner, null);
      const token = await issuer.sessionJwt(owner);
      for (const path of ['/api/organization', '/api/organization/admin-check']) {
        expectProblem(await api.http.as(token).get(path), {
          status: 403,
          detail:
            'This route needs an active organization: set one in Better Auth (organization.setActive) and send a fresh JWT.',
        });
      }
      // A user outside every organization has no organization claims either.
      expectProblem(
        await api.http.as(await issuer.sessionJwt(plainUser)).get('/api/organization'),
        {
          status: 403,
        },
      );
    });

    it('keeps session JWTs at full access to their own data whatever their roles', async () => {
      const reply = await api.http.as(await issuer.sessionJwt(member)).get('/api/todos');
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ todos: [], nextCursor: null });
    });
  });
});
