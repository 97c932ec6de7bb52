/** The page frame shared by the onboarding and status pages: inline CSS, no script, no external asset. */
export const LAYOUT = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title><%= it.title %> · defender-gateway</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1b1f24; background: #f6f7f9; }
header { background: #1f3a5f; color: #fff; padding: .7em 1.5em; display: flex; gap: 1.5em; align-items: center; }
header a { color: #fff; } header .brand { font-weight: 600; margin-right: auto; }
header form { margin: 0; }
main { padding: 1.2em 1.5em; max-width: 80em; }
table { border-collapse: collapse; width: 100%; background: #fff; font-size: 14px; }
th, td { text-align: left; padding: .35em .6em; border-bottom: 1px solid #e1e4e8; vertical-align: top; }
th { background: #eef1f5; position: sticky; top: 0; }
.ok { color: #1a7f37; } .bad { color: #b42318; } .warn { color: #9a6700; } .muted { color: #59636e; }
.tag { display: inline-block; padding: 0 .4em; margin: 0 .2em .2em 0; border-radius: 3px; background: #eef1f5; font-size: 12px; }
.tag.missing { background: #fde8e7; color: #b42318; } .tag.granted { background: #e6f4ea; color: #1a7f37; }
.box { background: #fff; border: 1px solid #e1e4e8; border-radius: 6px; padding: 1em 1.3em; margin-bottom: 1em; }
.button, button { display: inline-block; background: #1f6feb; color: #fff; border: 0; border-radius: 5px; padding: .45em 1em; font: inherit; cursor: pointer; text-decoration: none; }
button.small { padding: .15em .6em; font-size: 13px; }
code { font-size: 13px; }
input[type=password] { font: inherit; padding: .4em; width: 24em; }
</style>
</head>
<body>
<header><span class="brand">defender-gateway</span>
<% if (it.nav) { %>
<a href="/status">Tenants</a><a href="/status/clients">Clients</a><a href="/status/regions">Regions</a>
<form method="post" action="/status/sign-out"><input type="hidden" name="_csrf" value="<%= it.csrf %>"><button class="small">Sign out</button></form>
<% } %>
</header>
<main>
<%~ it.body %>
</main>
</body>
</html>
`
