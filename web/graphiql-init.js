/*
 * graphiql-init.js: starts GraphiQL on the /graphiql page against this
 * server's /v1/graphql (a file of its own rather than an inline script, so
 * that the page's Content-Security-Policy can forbid inline scripts). The
 * first visit shows the specification's first example query.
 */
"use strict";
(function () {
  var fetcher = GraphiQL.createFetcher({ url: "/v1/graphql" });
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
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(React.createElement(GraphiQL, { fetcher: fetcher, defaultQuery: example }));
})();
