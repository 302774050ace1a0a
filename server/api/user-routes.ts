/**
 * Users and sessions over the API (ADR 0020): admins manage users; anyone logs in with a user
 * name and password for a session token (what `stead login` stores), logs out, reads who it is
 * and changes its own password.
 */
import { loginRequestSchema, loginResponseSchema, passwordChangeSchema, userCreateSchema, userListSchema, userSchema, userUpdateSchema, whoamiSchema, type LoginRequest, type PasswordChange, type UserCreate, type UserUpdate } from '../../schemas/api/users.js';
import { compileGuard, type Guard } from '../../schemas/validate.js';
import { isoAt } from '../domain/clock.js';
import { ApiError } from '../domain/errors.js';
import { RateLimiter } from '../domain/rate-limiter.js';
import { sessionTokenPrefix } from '../services/operator-auth-service.js';
import type { Services } from '../services/services.js';
import type { UserView } from '../services/users/user-service.js';
import { userNameSyntax } from '../services/users/user-service.js';
import type { AppContext } from './app-state.js';
import { jsonBody } from './body.js';
import { errorResponse as err, operatorOf } from './route-helpers.js';
import type { RouteSpec } from './route-spec.js';

const createGuard: Guard<UserCreate> = compileGuard(userCreateSchema);
const updateGuard: Guard<UserUpdate> = compileGuard(userUpdateSchema);
const passwordGuard: Guard<PasswordChange> = compileGuard(passwordChangeSchema);
const loginGuard: Guard<LoginRequest> = compileGuard(loginRequestSchema);

/** Failed password logins per client address: 10 a minute, per server (on top of the per-user limit). */
const loginLimiters = new WeakMap<Services, RateLimiter>();
function loginLimiter(s: Services): RateLimiter {
  let l = loginLimiters.get(s);
  if (!l) loginLimiters.set(s, (l = new RateLimiter(s.clock, 10, 60_000)));
  return l;
}

export function userOut(u: UserView): Record<string, unknown> {
  return {
    name: u.name,
    role: u.role,
    ...(u.scope ? { scope: u.scope } : {}),
    disabled: u.disabled,
    createdAt: isoAt(u.createdAt),
    updatedAt: isoAt(u.updatedAt),
    passwordChangedAt: isoAt(u.passwordChangedAt),
    ...(u.lastLoginAt !== undefined ? { lastLoginAt: isoAt(u.lastLoginAt) } : {}),
  };
}

function nameParam(ctx: AppContext): string {
  const name = ctx.params['name'] ?? '';
  if (!userNameSyntax.test(name)) throw new ApiError('BAD_REQUEST', 'a user name is 1–64 characters: a letter, then letters, digits, . _ -');
  return name;
}

function actor(ctx: AppContext): { name: string; address: string } {
  return { name: operatorOf(ctx).name, address: ctx.ip };
}

function bearerOf(ctx: AppContext): string {
  const m = /^Bearer (\S+)$/.exec(ctx.get('authorization'));
  return m ? m[1]! : '';
}

export const userRoutes: RouteSpec[] = [
  {
    method: 'GET',
    path: '/api/v1/users',
    auth: 'admin',
    tag: 'users',
    summary: 'List users (names, roles, scopes, disabled; never password hashes). Admin only.',
    responses: { 200: { description: 'users', schema: userListSchema } },
    async handler(ctx, s) {
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { users: (await s.operators.users.list()).map(userOut) };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/users',
    auth: 'admin',
    audit: ['user.create'],
    tag: 'users',
    summary: 'Create a user with a role, an optional scope and a password (12–1024 bytes, stored as an argon2id hash). Admin only.',
    body: { types: ['application/json'], limit: 16 * 1024, schema: userCreateSchema },
    responses: { 201: { description: 'the user', schema: userSchema }, 400: err('bad body, bad name or a password outside 12–1024 bytes'), 409: err('a user of this name exists') },
    async handler(ctx, s) {
      const body = await jsonBody(ctx, createGuard, 16 * 1024);
      const u = await s.operators.users.create(body, actor(ctx));
      ctx.status = 201;
      ctx.body = userOut(u);
    },
  },
  {
    method: 'GET',
    path: '/api/v1/users/:name',
    auth: 'admin',
    tag: 'users',
    summary: 'One user. Admin only.',
    responses: { 200: { description: 'the user', schema: userSchema }, 404: err('no such user') },
    async handler(ctx, s) {
      const u = await s.operators.users.get(nameParam(ctx));
      if (!u) throw new ApiError('NOT_FOUND', 'no such user');
      ctx.set('Cache-Control', 'no-store');
      ctx.body = userOut(u);
    },
  },
  {
    method: 'PATCH',
    path: '/api/v1/users/:name',
    auth: 'admin',
    audit: ['user.update', 'user.password-reset'],
    tag: 'users',
    summary: "Change a user's role, scope (null clears it), disabled flag or password (a reset). Sessions see the change within the server's identity cache (5 s). Admin only.",
    body: { types: ['application/json'], limit: 16 * 1024, schema: userUpdateSchema },
    responses: { 200: { description: 'the user', schema: userSchema }, 400: err('bad body'), 404: err('no such user'), 409: err('an admin demoting or disabling itself') },
    async handler(ctx, s) {
      const name = nameParam(ctx);
      const body = await jsonBody(ctx, updateGuard, 16 * 1024);
      const { password, ...change } = body;
      let u: UserView | undefined;
      if (change.role !== undefined || change.scope !== undefined || change.disabled !== undefined) u = await s.operators.users.update(name, change, actor(ctx));
      if (password !== undefined) await s.operators.users.setPassword(name, password, actor(ctx));
      u = await s.operators.users.get(name);
      if (!u) throw new ApiError('NOT_FOUND', 'no such user');
      ctx.body = userOut(u);
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/users/:name',
    auth: 'admin',
    audit: ['user.delete'],
    tag: 'users',
    summary: 'Delete a user and end its sessions. Admin only.',
    responses: { 204: { description: 'deleted' }, 404: err('no such user'), 409: err('an admin deleting itself') },
    async handler(ctx, s) {
      const name = nameParam(ctx);
      if (!(await s.operators.users.remove(name, actor(ctx)))) throw new ApiError('NOT_FOUND', 'no such user');
      await s.operators.endUserSessions(name);
      ctx.status = 204;
    },
  },
  {
    method: 'POST',
    path: '/api/v1/login',
    auth: 'public',
    tag: 'users',
    summary: 'Log in with a user name and password; answers a session token to send as a Bearer token (what `stead login` stores). 10 failures a minute per address, 10 per 15 minutes per user name.',
    body: { types: ['application/json'], limit: 4 * 1024, schema: loginRequestSchema },
    responses: { 200: { description: 'the session', schema: loginResponseSchema }, 401: err('the user name or password is not right'), 429: err('too many failed logins') },
    async handler(ctx, s) {
      const limiter = loginLimiter(s);
      if (!limiter.peek(ctx.ip)) throw new ApiError('RATE_LIMITED', 'too many failed logins from this address; wait a minute');
      const body = await jsonBody(ctx, loginGuard, 4 * 1024);
      let session;
      try {
        session = await s.operators.loginPassword(body.user, body.password, ctx.ip, 'api');
      } catch (e) {
        limiter.take(ctx.ip);
        throw e;
      }
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { user: session.operator.name, role: session.operator.role, ...(session.operator.scope ? { scope: session.operator.scope } : {}), token: session.sessionId, expiresAt: isoAt(session.expiresAt) };
    },
  },
  {
    method: 'POST',
    path: '/api/v1/logout',
    auth: 'read',
    tag: 'users',
    summary: 'End the session whose token authenticates this request (a session token from /api/v1/login). Operator tokens are revoked by an admin instead.',
    responses: { 204: { description: 'the session ended' }, 400: err('the bearer token is not a session token') },
    async handler(ctx, s) {
      const token = bearerOf(ctx);
      if (!token.startsWith(sessionTokenPrefix)) throw new ApiError('BAD_REQUEST', 'this request is authenticated by an operator token, not a session; ask an admin to revoke a token');
      await s.operators.logout(token, ctx.ip);
      ctx.status = 204;
    },
  },
  {
    method: 'GET',
    path: '/api/v1/whoami',
    auth: 'read',
    tag: 'users',
    summary: 'Who this request acts as: name, role, scope, user or token.',
    responses: { 200: { description: 'the operator', schema: whoamiSchema } },
    async handler(ctx, s) {
      const p = operatorOf(ctx);
      const token = bearerOf(ctx);
      const op = token ? await s.operators.authenticate(token) : undefined;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { name: p.name, role: p.role, ...(p.scope ? { scope: p.scope } : {}), kind: op?.kind ?? 'token' };
    },
  },
  {
    method: 'PUT',
    path: '/api/v1/account/password',
    auth: 'read',
    tag: 'users',
    summary: 'Change your own password (any role): the current password, then the new one. Needs a user session (not an operator token).',
    body: { types: ['application/json'], limit: 4 * 1024, schema: passwordChangeSchema },
    responses: { 204: { description: 'changed' }, 400: err('bad body, a password outside 12–1024 bytes, or not a user session'), 403: err('the current password is not right') },
    async handler(ctx, s) {
      const body = await jsonBody(ctx, passwordGuard, 4 * 1024);
      const op = await s.operators.authenticate(bearerOf(ctx));
      if (op?.kind !== 'user') throw new ApiError('BAD_REQUEST', 'this request is authenticated by an operator token; log in as a user (stead login) to change a password');
      await s.operators.users.setPassword(op.name, body.password, { name: op.name, address: ctx.ip }, { current: body.current });
      ctx.status = 204;
    },
  },
];
