"""Checks HTTP responses against the OpenAPI document, src/api/openapi.json.

    from openapi_check import validate_response
    validate_response("GET", "/insights/7", 200, resp.json())

validate_response() finds the operation the server would have routed the
request to (the concrete path is matched against the document's path
templates the way src/http/server.c matches routes: a literal segment beats
a {parameter}, a trailing slash and the query string are ignored), picks the
response documented for the status (or `default`), resolves its $refs and
validates the body with jsonschema (Draft 2020-12). Any mismatch raises
AssertionError saying which operation, status and part of the body.

Answers the router gives without an operation are checked too, against the
shape src/http/server.c gives them (HTTPError): 404 for a path the document
does not know, 405 for a method a known path does not take, 413 for an
oversized body on any path, and CORS preflights (OPTIONS: 204 without a
body, or 400).

Bodies: pass the parsed JSON (resp.json()), None for a response without a
body (204, 304, HEAD), or str/bytes for a non-JSON one (/metrics, /docs);
str/bytes is parsed when the response is documented as JSON. Optionally pass
`content_type` (the Content-Type header) and `headers` (a mapping of the
response headers) to check those too.

Needs python3-jsonschema (Debian 12 ships 4.10, which has Draft 2020-12).
"""
import json
import os
import re
import urllib.parse

import jsonschema

SPEC_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         "src", "api", "openapi.json")

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

_specs = {}


class Spec:
    """An OpenAPI document, with its path templates compiled for matching."""

    def __init__(self, doc):
        self.doc = doc
        self.paths = []
        for template, item in doc.get("paths", {}).items():
            segments = template.strip("/").split("/") if template != "/" else []
            parts = []
            literals = 0
            for seg in segments:
                if seg.startswith("{") and seg.endswith("}"):
                    parts.append("[^/]+")
                else:
                    parts.append(re.escape(seg))
                    literals += 1
            regex = re.compile("^/" + "/".join(parts) + "$")
            self.paths.append((regex, literals, template, item))

    def resolve(self, node):
        """Follows $ref chains of the document (local references only)."""
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if ref in seen or not ref.startswith("#/"):
                raise AssertionError(f"openapi.json: cannot resolve $ref {ref!r}")
            seen.add(ref)
            node = self.doc
            for token in ref[2:].split("/"):
                token = token.replace("~1", "/").replace("~0", "~")
                try:
                    node = node[token]
                except (KeyError, TypeError):
                    raise AssertionError(f"openapi.json: dangling $ref {ref!r}") from None
        return node

    def match(self, path):
        """The (template, path item) pairs whose template matches `path`, most literal first."""
        found = [(lit, template, item) for regex, lit, template, item in self.paths
                 if regex.match(path)]
        found.sort(key=lambda f: -f[0])
        return [(template, item) for _, template, item in found]

    def validator(self, schema):
        """A Draft 2020-12 validator for `schema`, able to follow "#/components/..." refs."""
        root = dict(schema) if isinstance(schema, dict) else {"allOf": [schema]}
        root["components"] = self.doc.get("components", {})
        return jsonschema.Draft202012Validator(root)

    def error_schema(self):
        """The body of the router's own answers: the document's HTTPError."""
        schema = self.doc.get("components", {}).get("schemas", {}).get("HTTPError")
        return schema or {"type": "object", "required": ["detail"],
                          "properties": {"detail": {"type": "string"}}}


def load_spec(path=SPEC_PATH):
    """The parsed document at `path` (cached)."""
    spec = _specs.get(path)
    if spec is None:
        with open(path, encoding="utf-8") as f:
            spec = _specs[path] = Spec(json.load(f))
    return spec


def _normalise_path(path):
    path = urllib.parse.unquote(path.split("?", 1)[0].split("#", 1)[0])
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]  # the server serves "/insights/" as "/insights"
    return path


def _short(body, limit=600):
    if isinstance(body, bytes):
        text = body.decode("utf-8", "replace")
    elif isinstance(body, str):
        text = body
    else:
        text = json.dumps(body, ensure_ascii=False, default=repr)
    return text if len(text) <= limit else text[:limit] + "..."


def _check_schema(spec, schema, body, where):
    validator = spec.validator(schema)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        lines = []
        for err in errors[:5]:
            at = "/".join(str(p) for p in err.absolute_path) or "(the body)"
            lines.append(f"  at {at}: {err.message[:400]}")
        more = f"\n  ... and {len(errors) - 5} more" if len(errors) > 5 else ""
        raise AssertionError(f"{where}: the body does not match the document:\n"
                             + "\n".join(lines) + more + f"\nbody: {_short(body)}")


def _check_headers(spec, response, headers, where):
    if headers is None:
        return
    lower = {k.lower(): v for k, v in headers.items()}
    for name, header in (response.get("headers") or {}).items():
        header = spec.resolve(header)
        value = lower.get(name.lower())
        if value is None:
            if header.get("required"):
                raise AssertionError(f"{where}: the required header {name} is missing")
            continue
        schema = header.get("schema")
        if schema is None:
            continue
        if schema.get("type") == "integer":
            try:
                value = int(value)
            except ValueError:
                raise AssertionError(f"{where}: header {name}: {value!r} is not an integer") from None
        _check_schema(spec, schema, value, f"{where}, header {name}")


def _check_body(spec, response, body, content_type, where, head):
    content = response.get("content") or {}
    if head:
        return  # a HEAD answer has no body, whatever the GET would carry
    if body is None or body == b"" or body == "":
        if content:
            raise AssertionError(f"{where}: the document promises a body "
                                 f"({', '.join(content)}), none was given")
        return
    if not content:
        raise AssertionError(f"{where}: the document promises no body, got {_short(body)}")
    if content_type is not None:
        media = content_type.split(";")[0].strip().lower()
        if media not in content:
            raise AssertionError(f"{where}: Content-Type {content_type!r} is not among the "
                                 f"documented {sorted(content)}")
    else:
        media = "application/json" if "application/json" in content else next(iter(content))
    schema = (content.get(media) or {}).get("schema")
    if media == "application/json" or media.endswith("+json"):
        if isinstance(body, (bytes, str)):
            try:
                body = json.loads(body)
            except ValueError as exc:
                raise AssertionError(f"{where}: the body is not JSON ({exc}): {_short(body)}") from None
    elif isinstance(body, bytes):
        if schema and schema.get("type") == "string" and "contentMediaType" not in schema:
            try:
                body = body.decode("utf-8")
            except UnicodeDecodeError:
                raise AssertionError(f"{where}: the {media} body is not UTF-8 text") from None
        else:
            return  # binary content: nothing more to check
    elif not isinstance(body, str):
        raise AssertionError(f"{where}: expected a {media} body (str or bytes), "
                             f"got {type(body).__name__}")
    if schema is not None:
        _check_schema(spec, schema, body, where)


def validate_response(method: str, path: str, status: int, body, *, content_type=None,
                      headers=None, spec_path=SPEC_PATH) -> None:
    """Raises AssertionError when the response does not match the document.

    `method` is the HTTP method, `path` the request path (a query string is
    ignored), `status` the response status and `body` the response body (see
    the module's docstring for its forms)."""
    spec = load_spec(spec_path)
    method = method.upper()
    head = method == "HEAD"
    concrete = _normalise_path(path)
    where = f"{method} {concrete} -> {status}"
    error_shape = {"content": {"application/json": {"schema": spec.error_schema()}}}
    matches = spec.match(concrete)

    if not matches:
        if status not in (404, 413):
            raise AssertionError(f"{where}: the document has no path matching {concrete!r} "
                                 f"(the server answers such a path 404)")
        _check_body(spec, error_shape, body, content_type, where, head)
        return

    op_method = "get" if head else method.lower()
    template, operation = None, None
    for tmpl, item in matches:
        if op_method in item and op_method in HTTP_METHODS:
            template, operation = tmpl, item[op_method]
            break
    if operation is None:
        allowed = sorted({m.upper() for _, item in matches for m in item if m in HTTP_METHODS})
        if method == "OPTIONS":
            if status == 204:
                _check_body(spec, {}, body, content_type, where, head)
            elif status == 400:  # a preflight from an origin CORS does not allow
                _check_body(spec, error_shape, body, content_type, where, head)
            else:
                raise AssertionError(f"{where}: an OPTIONS request answers 204 (or 400 for a "
                                     f"disallowed CORS origin), not {status}")
            return
        if status not in (405, 413):
            raise AssertionError(f"{where}: {concrete} takes only {', '.join(allowed)}; the "
                                 f"server answers another method 405, not {status}")
        _check_body(spec, error_shape, body, content_type, where, head)
        return

    where = f"{method} {concrete} ({operation.get('operationId', template)}) -> {status}"
    responses = operation.get("responses", {})
    response = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") \
        or responses.get("default")
    if response is None:
        if status == 413:  # the body limit applies to every route
            response = {"$ref": "#/components/responses/PayloadTooLarge"}
        else:
            raise AssertionError(f"{where}: status {status} is not documented for {template} "
                                 f"(documented: {', '.join(sorted(responses))}); body: {_short(body)}")
    response = spec.resolve(response)
    _check_headers(spec, response, headers, where)
    _check_body(spec, response, body, content_type, where, head)
