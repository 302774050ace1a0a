/**
 * Console pages of users and of one's own account (ADR 0020):
 *   GET  /users, POST /users, POST /users/:name, POST /users/:name/password, POST /users/:name/delete   (admins)
 *   GET  /account, POST /account/password                                                                  (anyone)
 * The user service does the work (and the audit records); these pages only read forms.
 */
import type { Router } from '@koa/router';
import type { AppContext, AppState } from '../../api/app-state.js';
import { isoAt } from '../../domain/clock.js';
import { ApiError } from '../../domain/errors.js';
import { roles } from '../../domain/roles.js';
import { scopeText } from '../../domain/scope.js';
import type { Operator } from '../../services/operator-auth-service.js';
import { userNameSyntax, type UserView } from '../../services/users/user-service.js';
import type { ConsoleKit } from '../console-kit.js';
import { requireRole } from '../console-auth.js';
import { accountView, usersView } from './user-views.js';

const doneText: Record<string, string> = { added: 'User added.', saved: 'User saved.', reset: 'Password reset.', deleted: 'User deleted.', changed: 'Your password was changed.' };

function list(text: string | null): string[] | undefined {
  const items = (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return items.length > 0 ? items : undefined;
}

function scopeInput(form: URLSearchParams): { business?: string[]; idc?: string[] } | null {
  const business = list(form.get('business'));
  const idc = list(form.get('idc'));
  return business || idc ? { ...(business ? { business } : {}), ...(idc ? { idc } : {}) } : null;
}

function card(u: UserView): Record<string, unknown> {
  return { ...u, scopeText: scopeText(u.scope), business: (u.scope?.business ?? []).join(', '), idc: (u.scope?.idc ?? []).join(', '), lastLogin: u.lastLoginAt !== undefined ? isoAt(u.lastLoginAt) : undefined };
}

export function mountUserPages(router: Router<AppState>, kit: ConsoleKit): void {
  const users = kit.services.operators.users;

  const usersPage = async (ctx: AppContext, op: Operator, extra: Record<string, unknown>, status = 200): Promise<void> => {
    const all = await users.list();
    kit.html(ctx, usersView({ ...(await kit.frame(ctx, op, 'users')), title: 'Users', roles, users: all.map(card), form: { role: 'viewer' }, ...extra }), status);
  };

  const nameOf = (ctx: AppContext): string => {
    const name = ctx.params['name'] ?? '';
    if (!userNameSyntax.test(name)) throw new ApiError('NOT_FOUND', 'no such user');
    return name;
  };

  /** Runs a change; a refused one shows the page again with the error. */
  const act = async (ctx: AppContext, op: Operator, done: string, fn: () => Promise<unknown>, form?: Record<string, unknown>): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      await usersPage(ctx, op, { error: err.message, ...(form ? { form } : {}) }, err.status);
      return;
    }
    ctx.status = 303;
    ctx.redirect(`/users?done=${done}`);
  };

  router.get('/users', async (ctx) => {
    ctx.state.routeName = '/users';
    const op = kit.operator(ctx);
    if (!op) return;
    requireRole(op, 'admin', 'manage users');
    const done = String(ctx.query['done'] ?? '');
    await usersPage(ctx, op, doneText[done] ? { flash: doneText[done] } : {});
  });

  router.post('/users', async (ctx) => {
    ctx.state.routeName = '/users';
    const op = kit.operator(ctx)!;
    const form = await kit.readForm(ctx);
    requireRole(op, 'admin', 'manage users');
    const name = (form.get('name') ?? '').trim();
    const role = form.get('role') ?? 'viewer';
    const scope = scopeInput(form);
    await act(ctx, op, 'added', () => users.create({ name, role, password: form.get('password') ?? '', ...(scope ? { scope } : {}) }, { name: op.name, address: ctx.ip }), { name, role, business: form.get('business') ?? '', idc: form.get('idc') ?? '' });
  });

  router.post('/users/:name', async (ctx) => {
    ctx.state.routeName = '/users/:name';
    const op = kit.operator(ctx)!;
    const form = await kit.readForm(ctx);
    requireRole(op, 'admin', 'manage users');
    const name = nameOf(ctx);
    await act(ctx, op, 'saved', () => users.update(name, { role: form.get('role') ?? undefined, scope: scopeInput(form), disabled: form.get('disabled') === 'on' }, { name: op.name, address: ctx.ip }));
  });

  router.post('/users/:name/password', async (ctx) => {
    ctx.state.routeName = '/users/:name/password';
    const op = kit.operator(ctx)!;
    const form = await kit.readForm(ctx);
    requireRole(op, 'admin', 'manage users');
    const name = nameOf(ctx);
    await act(ctx, op, 'reset', () => users.setPassword(name, form.get('password') ?? '', { name: op.name, address: ctx.ip }));
  });

  router.post('/users/:name/delete', async (ctx) => {
    ctx.state.routeName = '/users/:name/delete';
    const op = kit.operator(ctx)!;
    await kit.readForm(ctx);
    requireRole(op, 'admin', 'manage users');
    const name = nameOf(ctx);
    await act(ctx, op, 'deleted', async () => {
      if (!(await users.remove(name, { name: op.name, address: ctx.ip }))) throw new ApiError('NOT_FOUND', `no user ${name}`);
      await kit.services.operators.endUserSessions(name);
    });
  });

  const accountPage = async (ctx: AppContext, op: Operator, extra: Record<string, unknown>, status = 200): Promise<void> => {
    kit.html(ctx, accountView({ ...(await kit.frame(ctx, op, 'account')), title: 'Your account', scopeText: scopeText(op.scope), isUser: op.kind === 'user', ...extra }), status);
  };

  router.get('/account', async (ctx) => {
    ctx.state.routeName = '/account';
    const op = kit.operator(ctx);
    if (!op) return;
    const done = String(ctx.query['done'] ?? '');
    await accountPage(ctx, op, doneText[done] ? { flash: doneText[done] } : {});
  });

  router.post('/account/password', async (ctx) => {
    ctx.state.routeName = '/account/password';
    const op = kit.operator(ctx)!;
    const form = await kit.readForm(ctx, 8 * 1024);
    try {
      if (op.kind !== 'user') throw new ApiError('BAD_REQUEST', 'you are logged in with a token, which has no password');
      const password = form.get('password') ?? '';
      if (password !== (form.get('confirm') ?? '')) throw new ApiError('BAD_REQUEST', 'the two new passwords differ');
      await users.setPassword(op.name, password, { name: op.name, address: ctx.ip }, { current: form.get('current') ?? '' });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      await accountPage(ctx, op, { error: err.message }, err.status);
      return;
    }
    ctx.status = 303;
    ctx.redirect('/account?done=changed');
  });
}
