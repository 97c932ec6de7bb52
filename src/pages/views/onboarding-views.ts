/** Pages a customer's admin sees (public listener): what is asked, and what came of it. */
export const ONBOARDING = `<% layout('@layout') %>
<h1>Connect <%= it.tenantLabel %> to your security provider</h1>
<div class="box">
<p>Your security provider runs a gateway that reads Microsoft Defender data of your organization (tenant
<code><%= it.tenantId %></code>) on your behalf. To do so, its application needs the permissions below,
granted once by an administrator of your organization (Global Administrator or Privileged Role Administrator).</p>
<% it.apis.forEach(function (api) { %>
<h2><%= api.api %></h2>
<ul>
<% api.permissions.forEach(function (p) { %>
<li><strong><%= p.name %></strong>: lets the application <%= p.words %><% if (p.changes) { %> <span class="warn">(makes changes)</span><% } %></li>
<% }) %>
</ul>
<% }) %>
<% if (it.apis.length === 0) { %><p class="warn">No permission is configured for this tenant yet: ask your provider before you continue.</p><% } %>
<p>Continue to sign in at Microsoft with an administrator account of <em>this</em> organization. Microsoft shows
the same permissions and asks you to accept them; you then come back here and see what was granted.
You can remove the application at any time under Enterprise applications in the Microsoft Entra admin center.</p>
<p><a class="button" href="<%= it.consentUrl %>">Continue to Microsoft</a></p>
<p class="muted">This link works until <%= it.linkExpires %>. The sign-in page it opens is valid for <%= it.stateMinutes %> minutes.</p>
</div>
`

export const ONBOARDING_RESULT = `<% layout('@layout') %>
<h1 class="<%= it.ok ? 'ok' : 'bad' %>"><%= it.heading %></h1>
<div class="box">
<p><%= it.message %></p>
<% if (it.next) { %><p><%= it.next %></p><% } %>
</div>
<% if (it.apis && it.apis.length > 0) { %>
<div class="box">
<h2>Permissions: granted and configured</h2>
<table><tr><th>API</th><th>Access</th><th>Granted</th><th>Still missing</th></tr>
<% it.apis.forEach(function (a) { %>
<tr><td><%= a.api %></td>
<td><% if (a.connected) { %><span class="ok">connected</span><% } else { %><span class="bad">no access yet</span> <span class="muted">(<%= a.problem %>)</span><% } %></td>
<td><% a.granted.forEach(function (p) { %><span class="tag granted"><%= p %></span><% }) %><% if (a.granted.length === 0) { %><span class="muted">none</span><% } %></td>
<td><% a.missing.forEach(function (p) { %><span class="tag missing"><%= p %></span><% }) %><% if (a.missing.length === 0) { %><span class="ok">none</span><% } %></td></tr>
<% }) %>
</table>
</div>
<% } %>
`

export const MESSAGE = `<% layout('@layout') %>
<h1><%= it.heading %></h1>
<div class="box"><p><%= it.message %></p></div>
`
