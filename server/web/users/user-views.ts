/**
 * Console views of users (admins) and of one's own account (nunjucks, autoescaped; every
 * action is a form post). Users are cards, not a table, so the page fits 390 px.
 */
import { view } from '../ui-env.js';
import { layout } from '../views.js';

const flash = `{% if flash %}<p class="flash" role="status">{{ flash }}</p>{% endif %}
{% if error %}<p class="flash bad" role="alert">{{ error }}</p>{% endif %}`;

const extra = `
.users{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:.8rem}
.users .card{margin:0}.users h2{margin:0 0 .4rem;font-size:16px;overflow-wrap:anywhere}
.form input[type=password],.form input[type=text]{min-height:40px}.form select{min-height:40px}
.form button,.form .act{min-height:40px}.form .check{display:flex;gap:.5rem;align-items:center;font-weight:400;min-height:40px}
.form .check input{width:22px;height:22px}
details summary{cursor:pointer;min-height:40px;display:flex;align-items:center}
`;

const roleSelect = (id: string, current: string): string => `<select id="${id}" name="role">{% for r in roles %}<option value="{{ r }}"{% if r == ${current} %} selected{% endif %}>{{ r }}</option>{% endfor %}</select>`;

export const usersView = view(
  layout(
    `<h1>Users</h1>
${flash}
<p class="muted">viewer reads; operator acts on hosts within its scope; admin does everything (ADR 0020). A scope lists business lines (<code>pay</code> is pay and its modules, <code>pay/*</code>, <code>pay/api</code>) and IDCs, comma-separated; empty means every host.</p>
<div class="users" id="users">
{% for u in users %}<div class="card" data-user="{{ u.name }}"><h2>{{ u.name }} <span class="s {% if u.disabled %}revoked{% else %}approved{% endif %}">{% if u.disabled %}disabled{% else %}{{ u.role }}{% endif %}</span></h2>
<dl class="meta"><dt>Role</dt><dd>{{ u.role }}</dd><dt>Scope</dt><dd class="wrap">{{ u.scopeText }}</dd><dt>Last login</dt><dd>{{ u.lastLogin or "never" }}</dd></dl>
<details><summary>Change</summary>
<form class="form" method="post" action="/users/{{ u.name | urlencode }}">
<label for="role-{{ loop.index }}">Role</label>${roleSelect('role-{{ loop.index }}', 'u.role')}
<label for="business-{{ loop.index }}">Business lines</label><input type="text" id="business-{{ loop.index }}" name="business" value="{{ u.business }}" maxlength="2000" placeholder="pay, shop/*">
<label for="idc-{{ loop.index }}">IDCs</label><input type="text" id="idc-{{ loop.index }}" name="idc" value="{{ u.idc }}" maxlength="2000" placeholder="sz, bj">
<label class="check" for="disabled-{{ loop.index }}"><input type="checkbox" id="disabled-{{ loop.index }}" name="disabled"{% if u.disabled %} checked{% endif %}> Disabled</label>
<p><button class="primary" type="submit">Save</button></p></form>
<form class="form" method="post" action="/users/{{ u.name | urlencode }}/password">
<label for="reset-{{ loop.index }}">New password (12–1024 bytes)</label><input type="password" id="reset-{{ loop.index }}" name="password" autocomplete="new-password" minlength="12" maxlength="1024" required>
<p><button class="act" type="submit">Reset password</button></p></form>
<form class="form" method="post" action="/users/{{ u.name | urlencode }}/delete"><p><button class="act reject" type="submit">Delete {{ u.name }}</button></p></form>
</details></div>
{% else %}<p class="card muted">No users yet: add one below.</p>{% endfor %}
</div>
<form class="form card" method="post" action="/users" id="user-form" style="margin-top:1rem"><strong>Add a user</strong>
<label for="new-name">Name</label><input type="text" id="new-name" name="name" required maxlength="64" autocomplete="off" value="{{ form.name }}">
<label for="new-role">Role</label>${roleSelect('new-role', 'form.role')}
<label for="new-business">Business lines</label><input type="text" id="new-business" name="business" maxlength="2000" placeholder="pay, shop/*" value="{{ form.business }}">
<label for="new-idc">IDCs</label><input type="text" id="new-idc" name="idc" maxlength="2000" placeholder="sz" value="{{ form.idc }}">
<label for="new-password">Password (12–1024 bytes)</label><input type="password" id="new-password" name="password" autocomplete="new-password" minlength="12" maxlength="1024" required>
<p><button class="primary" type="submit">Add user</button></p></form>`,
    extra,
  ),
);

export const accountView = view(
  layout(
    `<h1>Your account</h1>
${flash}
<div class="card"><dl class="meta"><dt>Name</dt><dd>{{ operator }}</dd><dt>Role</dt><dd>{{ role }}</dd><dt>Scope</dt><dd class="wrap">{{ scopeText }}</dd><dt>Signed in with</dt><dd>{{ "a password" if isUser else "an operator token" }}</dd></dl></div>
{% if isUser %}<form class="form card" method="post" action="/account/password" id="password-form"><strong>Change your password</strong>
<label for="current">Current password</label><input type="password" id="current" name="current" autocomplete="current-password" required maxlength="1024">
<label for="password">New password (12–1024 bytes)</label><input type="password" id="password" name="password" autocomplete="new-password" minlength="12" maxlength="1024" required>
<label for="confirm">New password again</label><input type="password" id="confirm" name="confirm" autocomplete="new-password" minlength="12" maxlength="1024" required>
<p><button class="primary" type="submit">Change password</button></p></form>
{% else %}<p class="card muted">A token has no password; an admin revokes or replaces tokens.</p>{% endif %}`,
    extra,
  ),
);
