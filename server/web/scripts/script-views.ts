/**
 * Console views of the script library and execution accounts (nunjucks, autoescaped; no script:
 * every action is a link or a form post). Code and diffs scroll inside their own box so the page
 * fits a 390 px screen.
 */
import { view } from '../ui-env.js';
import { layout } from '../views.js';

const flash = `{% if flash %}<p class="flash" role="status">{{ flash }}</p>{% endif %}
{% if error %}<p class="flash bad" role="alert">{{ error }}</p>{% endif %}`;

export const scriptListView = view(
  layout(`<h1>Scripts</h1>
${flash}
<form class="form card" method="get" action="/scripts" role="search">
<div class="row"><input type="text" name="q" value="{{ q }}" placeholder="Search name, description, tags" aria-label="Search scripts" maxlength="200">
<select name="kind" aria-label="Kind"><option value="">base and user</option><option value="base"{% if kind == "base" %} selected{% endif %}>base</option><option value="user"{% if kind == "user" %} selected{% endif %}>user</option></select>
{% if tag %}<input type="hidden" name="tag" value="{{ tag }}">{% endif %}
<button class="act" type="submit">Search</button></div></form>
{% if tags.length %}<p class="tags" id="tag-filter">{% if tag %}<a href="?q={{ q | urlencode }}&amp;kind={{ kind | urlencode }}">all tags</a>{% endif %}{% for t in tags %}<a href="?tag={{ t.tag | urlencode }}&amp;q={{ q | urlencode }}&amp;kind={{ kind | urlencode }}"{% if t.tag == tag %} class="on"{% endif %}>{{ t.tag }} ({{ t.count }})</a>{% endfor %}</p>{% endif %}
{% if canWrite %}<p><a class="act" href="/scripts/new">New script</a></p>{% endif %}
<div class="scroll"><table id="scripts"><thead><tr><th>Script</th><th>Kind</th><th class="num">Version</th><th class="hide-narrow">Tags</th><th class="hide-narrow">Updated</th></tr></thead><tbody>
{% for s in scripts %}<tr data-script="{{ s.id }}"><td class="wrap"><a href="/scripts/{{ s.id }}">{{ s.name }}</a> <span class="muted">{{ s.lang }}</span>{% if s.description %}<div class="muted">{{ s.description | truncate(140) }}</div>{% endif %}</td>
<td><span class="s {{ 'live' if s.kind == 'base' else 'unknown' }}">{{ s.kind }}</span></td><td class="num">{{ s.latest }}</td>
<td class="hide-narrow">{% for t in s.tags %}<span class="tag">{{ t }}</span>{% endfor %}</td><td class="hide-narrow">{{ s.updatedAt }}</td></tr>
{% else %}<tr><td colspan="5" class="muted">No script matches.</td></tr>{% endfor %}</tbody></table></div>
<p class="pager">{{ total }} script(s){% if pages > 1 %} · page {{ page }} of {{ pages }}
{% if page > 1 %} · <a rel="prev" href="?{{ prevQuery }}">previous</a>{% endif %}{% if page < pages %} · <a rel="next" href="?{{ nextQuery }}">next</a>{% endif %}{% endif %}</p>`),
);

export const scriptView = view(
  layout(`<p class="muted"><a href="/scripts">Scripts</a> / {{ s.id }}</p>
<h1 class="wrap">{{ s.name }} <span class="s {{ 'live' if s.kind == 'base' else 'unknown' }}">{{ s.kind }}</span></h1>
${flash}
<div class="card"><dl class="meta">
<dt>Id</dt><dd class="mono">{{ s.id }}</dd>
<dt>Language</dt><dd>{{ s.lang }}</dd>
<dt>Description</dt><dd class="wrap">{{ s.description or "—" }}</dd>
<dt>Tags</dt><dd>{% for t in s.tags %}<a class="tag" href="/scripts?tag={{ t | urlencode }}">{{ t }}</a>{% else %}—{% endfor %}</dd>
<dt>Version</dt><dd>{{ v.version }} of {{ s.latest }} · {{ v.author }} · {{ v.createdAt }}{% if v.message %} · <span class="wrap">{{ v.message }}</span>{% endif %}</dd>
{% if s.clonedFrom %}<dt>Cloned from</dt><dd><a href="/scripts/{{ s.clonedFrom.id }}?version={{ s.clonedFrom.version }}">{{ s.clonedFrom.id }} version {{ s.clonedFrom.version }}</a></dd>{% endif %}
</dl></div>
{% if canWrite %}<p>{% if s.kind == 'user' %}<a class="act" href="/scripts/{{ s.id }}/edit">Edit (new version)</a> {% endif %}</p>{% endif %}
<h2>Parameters</h2>
<div class="scroll"><table id="params"><thead><tr><th>Name</th><th>Required</th><th>Default</th><th>Description</th></tr></thead><tbody>
{% for p in params %}<tr><td class="mono">{{ p.name }}</td><td>{{ "yes" if p.required else "no" }}</td><td class="mono wrap">{{ p.default }}</td><td class="wrap">{{ p.description or "" }}</td></tr>
{% else %}<tr><td colspan="4" class="muted">This script declares no parameters.</td></tr>{% endfor %}</tbody></table></div>
<h2>Source (version {{ v.version }})</h2>
<pre class="code" id="source">{{ source }}</pre>
<h2>Versions</h2>
<div class="scroll"><table id="versions"><thead><tr><th class="num">Version</th><th>Saved</th><th>By</th><th>Message</th></tr></thead><tbody>
{% for x in versions %}<tr{% if x.version == v.version %} data-shown{% endif %}><td class="num"><a href="/scripts/{{ s.id }}?version={{ x.version }}">{{ x.version }}</a></td><td>{{ x.createdAt }}</td><td>{{ x.author }}</td><td class="wrap">{{ x.message or "" }}</td></tr>
{% endfor %}</tbody></table></div>
{% if versions.length > 1 %}<form class="form card" method="get" action="/scripts/{{ s.id }}/diff" id="diff-form"><strong>Compare versions</strong>
<div class="row"><label>From<select name="from">{% for x in versions %}<option value="{{ x.version }}"{% if x.version == diffFrom %} selected{% endif %}>{{ x.version }}</option>{% endfor %}</select></label>
<label>To<select name="to">{% for x in versions %}<option value="{{ x.version }}"{% if x.version == diffTo %} selected{% endif %}>{{ x.version }}</option>{% endfor %}</select></label></div>
<button class="act" type="submit">Show diff</button></form>{% endif %}
{% if canWrite %}<form class="form card" method="post" action="/scripts/{{ s.id }}/clone" id="clone-form"><strong>Clone version {{ v.version }}</strong>
<input type="hidden" name="version" value="{{ v.version }}">
<label for="clone-name">Name of the new script</label><input type="text" id="clone-name" name="name" required maxlength="100" value="{{ s.name }} copy">
<p><button class="primary" type="submit">Clone</button></p></form>
{% if s.kind == 'user' %}<form method="post" action="/scripts/{{ s.id }}/delete" id="delete-form"><button class="act reject" type="submit">Delete this script and all its versions</button></form>{% endif %}{% endif %}`),
);

export const scriptDiffView = view(
  layout(`<p class="muted"><a href="/scripts">Scripts</a> / <a href="/scripts/{{ id }}">{{ id }}</a> / diff</p>
<h1>{{ id }}: version {{ from }} → {{ to }}</h1>
{% if paramsChanged %}<p class="flash">The declared parameters differ between these versions.</p>{% endif %}
{% if lines.length %}<pre class="diff" id="diff">{% for l in lines %}<span class="{{ l.kind }}">{{ l.text }}</span>{% endfor %}</pre>{% if truncated %}<p class="muted">Diff truncated (the whole diff: GET /api/v1/scripts/{{ id }}/diff?from={{ from }}&amp;to={{ to }}).</p>{% endif %}
{% else %}<p class="card muted">The sources are identical.</p>{% endif %}
<p><a href="/scripts/{{ id }}?version={{ from }}">version {{ from }}</a> · <a href="/scripts/{{ id }}?version={{ to }}">version {{ to }}</a></p>`),
);

export const scriptEditView = view(
  layout(`<p class="muted"><a href="/scripts">Scripts</a> / {% if id %}<a href="/scripts/{{ id }}">{{ id }}</a> / edit{% else %}new{% endif %}</p>
<h1>{% if id %}Edit {{ name }}{% else %}New script{% endif %}</h1>
${flash}
<form class="form card" method="post" action="{{ action }}" id="editor">
{% if id %}<p class="muted">Saving makes version {{ next }} when the source or the parameters changed; description and tags are updated either way. Name and language stay.</p>
{% else %}<label for="name">Name</label><input type="text" id="name" name="name" required maxlength="100" value="{{ name }}">
<label for="lang">Language</label><select id="lang" name="lang"><option value="shell"{% if lang == "shell" %} selected{% endif %}>shell (/bin/sh)</option><option value="python"{% if lang == "python" %} selected{% endif %}>python (python3)</option></select>{% endif %}
<label for="description">Description</label><input type="text" id="description" name="description" maxlength="2000" value="{{ description }}">
<label for="tags">Tags (comma-separated)</label><input type="text" id="tags" name="tags" maxlength="700" value="{{ tags }}">
<fieldset style="border:0;padding:0;margin:.7rem 0 0"><legend style="font-weight:600">Parameters (passed as environment variables; save to get more empty rows)</legend>
{% for p in params %}<div class="row param"><input type="text" name="pname" value="{{ p.name }}" placeholder="NAME" aria-label="Parameter name" maxlength="64">
<select name="prequired" aria-label="Required"><option value="no">optional</option><option value="yes"{% if p.required %} selected{% endif %}>required</option></select>
<input type="text" name="pdefault" value="{{ p.default }}" placeholder="default" aria-label="Default" maxlength="4096">
<input type="text" name="pdescription" value="{{ p.description }}" placeholder="description" aria-label="Parameter description" maxlength="500"></div>
{% endfor %}</fieldset>
<label for="source">Source</label><textarea id="source" name="source" required spellcheck="false" wrap="off">
{{ source }}</textarea>
<label for="message">Version message</label><input type="text" id="message" name="message" maxlength="500" value="{{ message }}">
<p><button class="primary" type="submit">{% if id %}Save version{% else %}Create{% endif %}</button></p></form>`),
);

export const accountsView = view(
  layout(`<h1>Execution accounts</h1>
${flash}
<p class="muted">A job runs as one of these accounts: the name is what a job names, the user is the POSIX account on the host.</p>
<div class="scroll"><table id="accounts"><thead><tr><th>Name</th><th>User</th><th>Description</th><th></th></tr></thead><tbody>
{% for a in accounts %}<tr data-account="{{ a.name }}"><td class="mono">{{ a.name }}</td><td class="mono">{{ a.user }}</td><td class="wrap">{{ a.description or "" }}</td>
<td>{% if a.builtin %}<span class="muted">built in</span>{% elif canWrite %}<form class="inline" method="post" action="/accounts/{{ a.name }}/delete"><button class="act reject" type="submit">Delete</button></form>{% endif %}</td></tr>
{% endfor %}</tbody></table></div>
{% if canWrite %}<form class="form card" method="post" action="/accounts" id="account-form"><strong>Add an account</strong>
<label for="acc-name">Name</label><input type="text" id="acc-name" name="name" required maxlength="64" placeholder="app-deploy" value="{{ form.name }}">
<label for="acc-user">POSIX user</label><input type="text" id="acc-user" name="user" required maxlength="32" placeholder="deploy" value="{{ form.user }}">
<label for="acc-desc">Description</label><input type="text" id="acc-desc" name="description" maxlength="500" value="{{ form.description }}">
<p><button class="primary" type="submit">Add</button></p></form>{% endif %}`),
);
