// oracle.mjs: graphql-js 16 as the independent oracle of the GraphQL
// validator (src/graphql/validate.c).
//
//   node tests/graphql/oracle.mjs --gqlcheck build/asan/tests/gqlcheck [--out FILE]
//       graphql-js validates every document of the corpus against the schema
//       gqlcheck prints (--sdl), gqlcheck validates them too (with the
//       service's default limits: depth 12, 1000 fields), and every verdict
//       must agree; exits 1 on any disagreement
//   node tests/graphql/oracle.mjs --sdl schema.graphql [--out FILE]
//       graphql-js's verdicts only (for another implementation to compare)
//   node tests/graphql/oracle.mjs --gqlcheck PATH --regenerate
//       rewrites the generated documents (graphql-js's introspection queries)
//
// The corpus: tests/graphql/corpus/{valid,invalid,limits}/*.graphql, one
// document per file; the folder says what graphql-js must answer: valid/ and
// limits/ valid, invalid/ invalid. gql_validate must agree, except in
// limits/, which hold documents over the service's own limits (depth 12,
// 1000 fields), which graphql-js does not have: there it must refuse them.
// A file may open with header comments:
//   # graphql-js: TEXT     graphql-js's first error contains TEXT (required
//                          in invalid/: it pins the document to its rule)
//   # insights: TEXT       gql_validate's message contains TEXT (required in
//                          limits/)
//   # path: PATH           gql_validate's path is PATH
//   # operationName: NAME  the operation to run (for a live server's oracle)
// Other comment lines describe the document.
//
// graphql-js judges the same schema as the service, which takes three
// adjustments, each checked rather than assumed:
//   - the custom scalar `timestamp` accepts only a string holding an ISO
//     8601 date or date and time (the SDL cannot say so; graphql-js would
//     accept any literal);
//   - an operation whose root type the schema lacks (subscription) is
//     invalid, as graphql-js 17 and the specification's later editions say
//     (KnownOperationTypes below); graphql-js 16 silently skips every typed
//     rule inside one;
//   - graphql-js 16.15's introspection types have members newer than the
//     October 2021 edition the service implements (__Type.isOneOf, ...):
//     those the service lacks are removed from graphql-js's, and any other
//     difference between the two (gqlcheck --meta) fails the run.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  GraphQLError,
  Kind,
  buildSchema,
  getIntrospectionQuery,
  parse,
  print,
  specifiedRules,
  validate,
  validateSchema,
  version,
} from 'graphql';

const HERE = dirname(fileURLToPath(import.meta.url));
const CORPUS = join(HERE, 'corpus');
const LIMITS = ['--max-depth', '12', '--max-fields', '1000'];

// Generated documents: graphql-js's introspection queries, and documents at
// and just past the field limit (too long to write by hand).
function manyFields(n) {
  const lines = [];
  for (let i = 0; i < n; i++) lines.push(`  f${i}: __typename`);
  return `{\n${lines.join('\n')}\n}\n`;
}
const GENERATED = {
  'valid/introspection-default.graphql': ['getIntrospectionQuery()', () => getIntrospectionQuery()],
  'valid/introspection-october-2021.graphql': [
    'getIntrospectionQuery({descriptions, specifiedByUrl, directiveIsRepeatable, ' +
      'schemaDescription, inputValueDeprecation: true})',
    () =>
      getIntrospectionQuery({
        descriptions: true,
        specifiedByUrl: true,
        directiveIsRepeatable: true,
        schemaDescription: true,
        inputValueDeprecation: true,
      }),
  ],
  'valid/introspection-minimal.graphql': [
    'getIntrospectionQuery({descriptions: false})',
    () => getIntrospectionQuery({ descriptions: false }),
  ],
  'valid/fields-1000.graphql': ['1000 fields, the default limit', () => manyFields(1000)],
  'limits/fields-1001.graphql': [
    '1001 fields, one past the default limit\n' +
      "# insights: the document has 1001 fields; the limit is 1000 (--graphql-max-fields)\n# path: $",
    () => manyFields(1001),
  ],
};

// ---- the timestamp scalar: an independent reading of validate.h's grammar ----

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:[Zz]|[+-](\d{2})(?::?(\d{2}))?)?)?$/;

export function isTimestamp(text) {
  const m = TIMESTAMP.exec(text);
  if (!m) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (month < 1 || month > 12 || day < 1 || day > days[month - 1]) return false;
  const over = (s, max) => s !== undefined && Number(s) > max;
  return !(over(m[4], 23) || over(m[5], 59) || over(m[6], 59) || over(m[7], 23) || over(m[8], 59));
}

function timestampLiteral(node) {
  if (node.kind !== Kind.STRING)
    throw new GraphQLError(`timestamp cannot represent a non-string value: ${print(node)}`);
  if (!isTimestamp(node.value))
    throw new GraphQLError(`timestamp cannot represent ${print(node)}: not an ISO 8601 date`);
  return node.value;
}

// ---- operations the schema has no root for ----

export function KnownOperationTypesRule(context) {
  return {
    OperationDefinition(node) {
      if (!context.getSchema().getRootType(node.operation)) {
        context.reportError(
          new GraphQLError(`The ${node.operation} operation is not supported by the schema.`, {
            nodes: node,
          }),
        );
      }
    },
  };
}

// ---- graphql-js's built-in introspection types and directives, made ours ----

function typeString(node) {
  return print(node);
}

// Removes from graphql-js what the service's October 2021 introspection
// lacks; returns what was removed, or throws on any other difference.
function reconcileMeta(schema, metaSdl) {
  const removed = [];
  const problems = [];
  const doc = parse(metaSdl);
  for (const def of doc.definitions) {
    if (def.kind === Kind.DIRECTIVE_DEFINITION) continue;
    const name = def.name.value;
    const theirs = schema.getType(name);
    if (!theirs) {
      problems.push(`graphql-js has no type ${name}`);
      continue;
    }
    if (def.kind === Kind.ENUM_TYPE_DEFINITION) {
      const ours = new Set(def.values.map((v) => v.name.value));
      const values = theirs.getValues();
      for (const v of values) if (!ours.has(v.name)) removed.push(`${name}.${v.name}`);
      for (const v of ours)
        if (!values.some((x) => x.name === v)) problems.push(`graphql-js lacks ${name}.${v}`);
      theirs._values = values.filter((v) => ours.has(v.name));
      theirs._nameLookup = null;
      theirs._valueLookup = null;
      continue;
    }
    const fields = theirs.getFields();
    const ours = new Map(def.fields.map((f) => [f.name.value, f]));
    for (const fname of Object.keys(fields)) {
      if (!ours.has(fname)) {
        removed.push(`${name}.${fname}`);
        delete fields[fname];
      }
    }
    for (const [fname, f] of ours) {
      const field = fields[fname];
      if (!field) {
        problems.push(`graphql-js lacks ${name}.${fname}`);
        continue;
      }
      if (String(field.type) !== typeString(f.type))
        problems.push(`${name}.${fname}: ${typeString(f.type)} here, ${field.type} in graphql-js`);
      const ourArgs = new Map((f.arguments || []).map((a) => [a.name.value, a]));
      for (const a of field.args)
        if (!ourArgs.has(a.name)) removed.push(`${name}.${fname}(${a.name})`);
      field.args = field.args.filter((a) => ourArgs.has(a.name));
      for (const [aname, a] of ourArgs) {
        const arg = field.args.find((x) => x.name === aname);
        if (!arg) problems.push(`graphql-js lacks ${name}.${fname}(${aname})`);
        else if (String(arg.type) !== typeString(a.type))
          problems.push(`${name}.${fname}(${aname}): ${typeString(a.type)} here, ${arg.type} there`);
      }
    }
  }
  const ourDirectives = new Map(
    doc.definitions
      .filter((d) => d.kind === Kind.DIRECTIVE_DEFINITION)
      .map((d) => [d.name.value, d]),
  );
  for (const d of schema.getDirectives()) {
    const ours = ourDirectives.get(d.name);
    if (!ours) {
      removed.push(`@${d.name}`);
      continue;
    }
    // Locations newer than the service's __DirectiveLocation go (DIRECTIVE_DEFINITION).
    const known = new Set(schema.getType('__DirectiveLocation').getValues().map((v) => v.name));
    for (const l of d.locations) if (!known.has(l)) removed.push(`@${d.name} on ${l}`);
    d.locations = d.locations.filter((l) => known.has(l));
    const locations = ours.locations.map((l) => l.value).sort().join(' ');
    if ([...d.locations].sort().join(' ') !== locations)
      problems.push(`@${d.name}: locations ${locations} here, ${d.locations} there`);
    const argsHere = ours.arguments.map((a) => `${a.name.value}: ${typeString(a.type)}`).join(', ');
    const argsThere = d.args.map((a) => `${a.name}: ${a.type}`).join(', ');
    if (argsHere !== argsThere) problems.push(`@${d.name}(${argsHere}) here, (${argsThere}) there`);
    if (d.isRepeatable !== ours.repeatable) problems.push(`@${d.name}: repeatable differs`);
  }
  for (const name of ourDirectives.keys())
    if (!schema.getDirective(name)) problems.push(`graphql-js lacks @${name}`);
  schema._directives = schema.getDirectives().filter((d) => ourDirectives.has(d.name));
  if (problems.length)
    throw new Error(`the introspection types differ:\n  ${problems.join('\n  ')}`);
  return removed;
}

// graphql-js's schema for the service: the SDL built, the timestamp scalar
// made ISO 8601's, and (given gqlcheck --meta's text) the introspection types
// made the service's. Returns { schema, removed }; throws on a difference.
export function serviceSchema(sdl, metaSdl) {
  const schema = buildSchema(sdl);
  const errors = validateSchema(schema);
  if (errors.length) throw new Error(`graphql-js refuses the schema: ${errors.map((e) => e.message)}`);
  schema.getType('timestamp').parseLiteral = timestampLiteral;
  const removed = metaSdl ? reconcileMeta(schema, metaSdl) : [];
  return { schema, removed };
}

// ---- the corpus ----

export function listCorpus(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listCorpus(path));
    else if (entry.name.endsWith('.graphql')) out.push(path);
  }
  return out.sort();
}

function headers(text) {
  const h = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('#')) break;
    const m = /^#\s*(graphql-js|insights|path|operationName):\s?(.*)$/.exec(line);
    if (m) h[m[1]] = m[2].trimEnd();
  }
  return h;
}

function generatedText(file) {
  const [what, make] = GENERATED[file];
  return `# generated by tests/graphql/oracle.mjs --regenerate (graphql-js ${version}): ${what}\n${make()}\n`;
}

export function graphqlJsVerdict(schema, text) {
  let doc;
  try {
    doc = parse(text);
  } catch (e) {
    return { verdict: 'parse-error', message: e.message };
  }
  const errors = validate(schema, doc, [...specifiedRules, KnownOperationTypesRule]);
  return errors.length
    ? { verdict: 'invalid', message: errors[0].message }
    : { verdict: 'valid' };
}

// ---- main ----

function main() {
  function usage() {
    console.error(
      'usage: oracle.mjs (--gqlcheck PATH | --sdl FILE) [--out FILE] [--regenerate]',
    );
    process.exit(2);
  }

  const args = { gqlcheck: null, sdl: null, out: null, regenerate: false };
  for (let i = 2; i < process.argv.length; i++) {
    const a = process.argv[i];
    if (a === '--regenerate') args.regenerate = true;
    else if (a === '--gqlcheck' || a === '--sdl' || a === '--out') {
      if (i + 1 >= process.argv.length) usage();
      args[a.slice(2)] = process.argv[++i];
    } else usage();
  }
  if (!args.gqlcheck && !args.sdl) usage();

  function gqlcheck(argv) {
    const r = spawnSync(args.gqlcheck, argv, { encoding: 'utf8', maxBuffer: 1 << 28 });
    if (r.status !== 0) {
      console.error(`oracle: ${args.gqlcheck} ${argv[0]}: exit ${r.status}\n${r.stderr}`);
      process.exit(1);
    }
    return r.stdout;
  }


  if (args.regenerate) {
    for (const file of Object.keys(GENERATED)) writeFileSync(join(CORPUS, file), generatedText(file));
    console.log(`oracle: regenerated ${Object.keys(GENERATED).length} documents`);
    process.exit(0);
  }

  const sdl = args.sdl ? readFileSync(args.sdl, 'utf8') : gqlcheck(['--sdl']);
  let schema;
  let removed = [];
  try {
    ({ schema, removed } = serviceSchema(sdl, args.gqlcheck ? gqlcheck(['--meta']) : null));
  } catch (e) {
    console.error(`oracle: ${e.message}`);
    process.exit(1);
  }

  const files = listCorpus(CORPUS);
  const failures = [];
  const results = [];
  for (const path of files) {
    const file = relative(CORPUS, path);
    const text = readFileSync(path, 'utf8');
    if (GENERATED[file] && text !== generatedText(file))
      failures.push(`${file}: stale; run oracle.mjs --regenerate`);
    const limit = file.startsWith('limits/');
    const expected =
      file.startsWith('valid/') || limit ? 'valid' : file.startsWith('invalid/') ? 'invalid' : null;
    const h = headers(text);
    const js = graphqlJsVerdict(schema, text);
    results.push({ file, expected, limit, headers: h, graphqljs: js });
    if (!expected) failures.push(`${file}: not under valid/, invalid/ or limits/`);
    else if (js.verdict !== expected)
      failures.push(`${file}: graphql-js says ${js.verdict}${js.message ? ` (${js.message})` : ''}, the corpus says ${expected}`);
    if (expected === 'invalid' && !h['graphql-js'])
      failures.push(`${file}: an invalid document needs a "# graphql-js:" header`);
    if (limit && !h.insights) failures.push(`${file}: a document of limits/ needs an "# insights:" header`);
    if (h['graphql-js'] && !(js.message || '').includes(h['graphql-js']))
      failures.push(`${file}: graphql-js's message is "${js.message}", not "${h['graphql-js']}"`);
  }

  let agree = 0;
  let refused = 0;
  if (args.gqlcheck) {
    const lines = gqlcheck([...LIMITS, ...files]).trim().split('\n');
    if (lines.length !== files.length) {
      console.error(`oracle: gqlcheck answered ${lines.length} of ${files.length} documents`);
      process.exit(1);
    }
    lines.forEach((line, i) => {
      const c = JSON.parse(line);
      const r = results[i];
      delete c.file;
      r.insights = c;
      const h = r.headers;
      if (r.limit) {
        if (c.verdict === 'invalid') refused++;
        else failures.push(`${r.file}: gql_validate says ${c.verdict}, not invalid (over a limit)`);
      } else if (c.verdict === r.graphqljs.verdict) agree++;
      else
        failures.push(
          `${r.file}: gql_validate says ${c.verdict}${c.message ? ` (${c.path}: ${c.message})` : ''}, ` +
            `graphql-js ${r.graphqljs.verdict}${r.graphqljs.message ? ` (${r.graphqljs.message})` : ''}`,
        );
      if (h.insights && !(c.message || '').includes(h.insights))
        failures.push(`${r.file}: gql_validate's message is "${c.message}", not "${h.insights}"`);
      if (h.path && c.path !== h.path)
        failures.push(`${r.file}: gql_validate's path is "${c.path}", not "${h.path}"`);
    });
  }

  if (args.out) {
    mkdirSync(dirname(args.out), { recursive: true });
    writeFileSync(
      args.out,
      JSON.stringify({ graphql: version, adjustments: { removed }, documents: results }, null, 1) + '\n',
    );
  }

  for (const f of failures) console.error(`oracle: ${f}`);
  const compared = results.filter((r) => !r.limit);
  const valid = compared.filter((r) => r.graphqljs.verdict === 'valid').length;
  const nlimits = results.length - compared.length;
  const summary =
    `${compared.length} documents (${valid} valid, ${compared.length - valid} invalid by graphql-js ${version})` +
    ` and ${nlimits} over the service's limits`;
  if (args.gqlcheck)
    console.log(
      `oracle: ${summary}; gql_validate agrees with graphql-js on ${agree} of ${compared.length}` +
        ` and refuses ${refused} of ${nlimits} over the limits`,
    );
  else console.log(`oracle: ${summary}`);
  if (removed.length)
    console.log(`oracle: left out of graphql-js's introspection (newer than October 2021): ${removed.join(', ')}`);
  process.exit(failures.length ? 1 : 0);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
