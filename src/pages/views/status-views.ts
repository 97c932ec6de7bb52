/** Pages an MSSP operator sees on the admin listener, behind the admin token. */
export const SIGN_IN = `<% layout('@layout') %>
<h1>Sign in to the status pages</h1>
<div class="box">
<% if (it.error) { %><p class="bad"><%= it.error %></p><% } %>
<form method="post" action="/status/sign-in">
<input type="hidden" name="_csrf" value="<%= it.csrf %>">
<p><label>Admin token <input type="password" name="token" autocomplete="current-password" autofocus required></label></p>
<p><button>Sign in</button></p>
</form>
<p class="muted">The token is <code>admin.token</code> from the gateway's config. You stay signed in for <%= it.minutes %> minutes.</p>
</div>
`

const TAGS = '<% (it.list || []).forEach(function (p) { %><span class="tag <%= it.kind %>"><%= p %></span><% }) %>'

export const TENANTS = `<% layout('@layout') %>
<h1>Tenants</h1>
<p class="muted"><%= it.rows.length %> tenants: <%= it.summary.ok %> complete, <%= it.summary.missing %> with permissions missing, <%= it.summary.failing %> without a token (refused or failing), <%= it.summary.none %> with no token cached yet. Budget counts are this process's calls in the last minute and hour.</p>
<table>
<tr><th>Tenant</th><th>Permissions (per API)</th><th>Token (per API)</th><th>Last error (per API)</th><th>Region</th><th>Budget min / hour</th><th>Links</th></tr>
<% it.rows.forEach(function (r) { %>
<tr>
<td><a href="/status/tenants/<%= r.id %>"><%= r.name || r.id %></a><br><code class="muted"><%= r.id %></code></td>
<td><% r.apis.forEach(function (a) { %><div><span class="muted"><%= a.api %>:</span>
<% if (a.tokenState === 'ok' || a.tokenState === 'stale') { %>
<% if (a.missing.length === 0) { %><span class="ok">all <%= a.granted.length %> granted</span><% } else { %><%~ include('@tags', { list: a.missing, kind: 'missing' }) %><span class="bad">missing</span><% } %>
<% } else { %><span class="muted">unknown (no token)</span><% } %></div><% }) %></td>
<td><% r.apis.forEach(function (a) { %><div class="<%= a.tokenState === 'ok' ? 'ok' : (a.tokenState === 'none' ? 'muted' : 'bad') %>"><span class="muted"><%= a.key %>:</span> <%= a.tokenState %><% if (a.expiresOn) { %> <span class="muted">until <%= a.expiresOn %></span><% } %></div><% }) %></td>
<td><% r.apis.forEach(function (a) { %><div><span class="muted"><%= a.key %>:</span> <% if (a.lastError) { %><span class="bad"><%= a.lastError.kind %></span> <span class="muted"><%= a.lastError.at %></span><% } else { %><span class="muted">none</span><% } %></div><% }) %></td>
<td><%= r.region %></td>
<td><%= r.budget.minute %> / <%= r.budget.perMinute === null ? '∞' : r.budget.perMinute %><br><%= r.budget.hour %> / <%= r.budget.perHour === null ? '∞' : r.budget.perHour %></td>
<td><a href="<%= r.consentUrl %>">consent</a><% if (r.onboardingUrl) { %><br><a href="<%= r.onboardingUrl %>">onboarding link</a><% } %></td>
</tr>
<% }) %>
</table>
`

export const TENANT = `<% layout('@layout') %>
<h1><%= it.row.name || it.row.id %></h1>
<% if (it.notice) { %><div class="box"><p class="<%= it.noticeOk ? 'ok' : 'bad' %>"><%= it.notice %></p></div><% } %>
<div class="box">
<p>Tenant id <code><%= it.row.id %></code>, region <%= it.row.region %>. Tokens: <strong><%= it.row.tokenState %></strong> (the worst of its APIs).</p>
<form method="post" action="/status/tenants/<%= it.row.id %>/refresh"><input type="hidden" name="_csrf" value="<%= it.csrf %>"><button>Refresh tokens now</button></form>
<p class="muted">Asks Entra ID for a new token of each API below now (at most once per tenant and API per cool-down window) and shows what each grants.</p>
</div>
<div class="box"><h2>Permissions and tokens per API</h2>
<table><tr><th>API</th><th>Token</th><th>Granted</th><th>Missing</th><th>Last error</th></tr>
<% it.row.apis.forEach(function (a) { %><tr><td><%= a.api %></td>
<td class="<%= a.tokenState === 'ok' ? 'ok' : (a.tokenState === 'none' ? 'muted' : 'bad') %>"><%= a.tokenState %><% if (a.expiresOn) { %><br><span class="muted">valid until <%= a.expiresOn %></span><% } %></td>
<td><%~ include('@tags', { list: a.granted, kind: 'granted' }) %></td><td><%~ include('@tags', { list: a.missing, kind: 'missing' }) %></td>
<td><% if (a.lastError) { %><span class="bad"><%= a.lastError.kind %></span> <span class="muted"><%= a.lastError.at %></span><br><%= a.lastError.message %><% } else { %><span class="muted">none</span><% } %></td></tr><% }) %>
</table>
<p>Consent: <a href="<%= it.row.consentUrl %>"><%= it.row.consentUrl %></a></p>
<% if (it.row.onboardingUrl) { %><p>Onboarding link for the customer's admin: <a href="<%= it.row.onboardingUrl %>"><%= it.row.onboardingUrl %></a></p><% } %>
</div>
<div class="box"><h2>Clients</h2>
<table><tr><th>Client</th><th>May use this tenant</th><th>Effective permissions</th><th>Routes opened</th><th>Granted in the token</th></tr>
<% it.clients.forEach(function (c) { %><tr><td><%= c.client %></td><td class="<%= c.allowed ? 'ok' : 'muted' %>"><%= c.allowed ? 'yes' : 'no' %></td>
<td><%~ include('@tags', { list: c.permissions, kind: '' }) %></td><td><%= c.routes %></td><td><%~ include('@tags', { list: c.granted, kind: 'granted' }) %></td></tr><% }) %>
</table></div>
`

export const CLIENTS = `<% layout('@layout') %>
<h1>Clients</h1>
<table><tr><th>Client</th><th>Tenants</th><th>Permissions</th><th>Key fingerprint</th><% if (it.oauth) { %><th>Gateway tokens issued</th><% } %></tr>
<% it.clients.forEach(function (c) { %><tr><td><%= c.name %><% if (c.clientId) { %><br><code class="muted"><%= c.clientId %></code><% } %></td>
<td><%~ include('@tags', { list: c.tenants, kind: '' }) %></td><td><%~ include('@tags', { list: c.permissions, kind: '' }) %></td>
<td><code><%= c.fingerprint %></code></td><% if (it.oauth) { %><td><%= c.issued %></td><% } %></tr><% }) %>
</table>
<p class="muted">The fingerprint is the start of the key's SHA-256 as the config stores it (keySha256); the key itself is never stored.</p>
`

export const REGIONS = `<% layout('@layout') %>
<h1>Regions</h1>
<p>Region choice: <strong><%= it.configured %></strong></p>
<table><tr><th>Region</th><th>URL</th><th>RTT</th><th>Health</th><th>Failures</th><th>Out until</th></tr>
<% it.regions.forEach(function (r) { %><tr><td><%= r.name %></td><td><code><%= r.url %></code></td><td><%= r.rttMs === null ? 'not measured' : r.rttMs + ' ms' %></td>
<td class="<%= r.available ? 'ok' : 'bad' %>"><%= r.available ? 'healthy' : 'out of rotation' %></td><td><%= r.failures %></td><td><%= r.downUntil || '' %></td></tr><% }) %>
</table>
`

/** Permission names as tags (granted, missing or plain). */
export const TAG_LIST = TAGS
