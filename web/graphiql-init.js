/*
 * graphiql-init.js: starts GraphiQL on the /graphiql page against this
 * server's /v1/graphql (a file of its own rather than an inline script, so
 * that the page's Content-Security-Policy can forbid inline scripts). The
 * first visit shows the specification's first example query.
 *
 * Authentication: every request GraphiQL makes (queries and the schema's
 * introspection alike) goes through one fetcher, which sends the API token
 * the dashboard keeps in the tab's session storage ('insights.token') as
 * `Authorization: Bearer <token>`, unless the Headers pane sets an
 * Authorization header of its own. When the server answers 401, the page's
 * sign-in form (graphiql.html) appears; a token is checked with GET
 * /auth/me before it is kept, and GraphiQL is then given a new fetcher,
 * which makes it read the schema again (the documentation explorer).
 */
"use strict";
(function () {
  var TOKEN_KEY = "insights.token";

  function getToken() {
    try { return sessionStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
  }
  function setToken(value) {
    try {
      if (value) sessionStorage.setItem(TOKEN_KEY, value);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* storage off: nothing is kept */ }
  }

  var el = function (id) { return document.getElementById(id); };
  var bar = el("auth");
  var form = el("signin");
  var input = el("signin-token");
  var help = el("signin-help");
  var error = el("signin-error");
  var account = el("account");

  function showError(text) {
    error.textContent = text || "";
    error.hidden = !text;
    if (text) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  // The form, focused when it first appears; `refused`: a token was held.
  function showSignIn(refused) {
    var wasHidden = form.hidden;
    help.textContent = refused
      ? "The server refused the token this tab held. Paste an API token; it is kept in this tab only."
      : "This server asks for credentials. Paste an API token; it is kept in this tab only.";
    account.hidden = true;
    form.hidden = false;
    bar.hidden = false;
    if (wasHidden) input.focus();
  }

  function showAccount(me) {
    form.hidden = true;
    showError("");
    if (me && me.authenticated) {
      el("who-name").textContent = me.name;
      el("who-role").textContent = me.role;
      account.hidden = false;
      bar.hidden = false;
    } else {
      // Nobody to name (authentication off, or signed out): no bar.
      account.hidden = true;
      bar.hidden = true;
    }
  }

  function hasAuthorization(headers) {
    return Object.keys(headers).some(function (k) { return k.toLowerCase() === "authorization"; });
  }

  // GET /auth/me with `token`: resolves to { status, body }.
  function whoIs(token) {
    return fetch("/auth/me", {
      headers: { Accept: "application/json", Authorization: "Bearer " + token },
      credentials: "same-origin", cache: "no-store",
    }).then(function (resp) {
      return resp.text().then(function (text) {
        var body = null;
        try { body = JSON.parse(text); } catch (e) { body = null; }
        return { status: resp.status, body: body };
      });
    });
  }

  function makeFetcher() {
    return function (params, opts) {
      var headers = { "Content-Type": "application/json", Accept: "application/json" };
      var extra = (opts && opts.headers) || {};
      Object.keys(extra).forEach(function (k) { headers[k] = extra[k]; });
      var token = getToken();
      if (token && !hasAuthorization(extra)) headers.Authorization = "Bearer " + token;
      return fetch("/v1/graphql", {
        method: "POST", headers: headers, body: JSON.stringify(params), credentials: "same-origin",
      }).then(function (resp) {
        return resp.text().then(function (text) {
          var body;
          try { body = JSON.parse(text); } catch (e) { body = text; }
          if (resp.status === 401) {
            if (token && !hasAuthorization(extra)) setToken(null);
            showSignIn(!!token);
            return { errors: [{ message: "Not authenticated: sign in with an API token (the form above)." }] };
          }
          if (resp.status === 403) {
            return { errors: [{ message: "Not enough permissions: this token's role cannot use GraphQL." }] };
          }
          if (resp.status === 429) {
            return { errors: [{ message: "Too many requests: wait a moment, then try again." }] };
          }
          return body;
        });
      });
    };
  }

  var example = [
    "# The insights API in Hasura's dialect: Ctrl-Enter runs the query,",
    "# the Docs button shows every type and field.",
    "query RecentHighPriority {",
    "  insights(",
    "    where: { status: { _eq: \"published\" }, priority: { _eq: \"high\" } }",
    "    order_by: { created_at: desc }",
    "    limit: 20",
    "  ) {",
    "    id",
    "    title",
    "    priority",
    "    status",
    "    created_at",
    "    author",
    "    category { name color icon }",
    "    tags { name color }",
    "  }",
    "}",
    "",
  ].join("\n");
  var root = ReactDOM.createRoot(el("graphiql"));
  // A new fetcher makes GraphiQL introspect again (after a sign-in or out).
  function start() {
    root.render(React.createElement(GraphiQL, { fetcher: makeFetcher(), defaultQuery: example }));
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var candidate = input.value.trim();
    if (!candidate) { showError("Paste an API token first."); input.focus(); return; }
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    showError("");
    whoIs(candidate).then(function (r) {
      button.disabled = false;
      if (r.status === 200) {
        setToken(candidate);
        input.value = "";
        showAccount(r.body);
        el("signout").focus();
        start();
      } else {
        showError(r.status === 401 ? "This token was refused: it may be mistyped, expired or revoked."
          : r.status === 403 ? "This token is valid but its role cannot read insights."
          : "The server answered " + r.status + ".");
        input.focus();
        input.select();
      }
    }, function () {
      button.disabled = false;
      showError("The server cannot be reached.");
    });
  });

  el("signout").addEventListener("click", function () {
    setToken(null);
    showAccount(null);
    start(); // the introspection's 401 brings the form back
  });

  // Who the tab's token is, for the bar; a refused one is forgotten by the
  // fetcher when GraphiQL first asks.
  var held = getToken();
  if (held) {
    whoIs(held).then(function (r) { if (r.status === 200) showAccount(r.body); }, function () {});
  }
  start();
})();
