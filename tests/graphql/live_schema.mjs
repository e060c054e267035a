// live_schema.mjs: graphql-js reads a running server's introspection.
//
//   node tests/graphql/live_schema.mjs URL SDL_FILE
//
// Asks URL (a /v1/graphql endpoint) for graphql-js's full introspection
// query, builds a client schema from the answer (buildClientSchema), checks
// it (validateSchema) and compares it, type by type and field by field
// (descriptions aside), with the schema in SDL_FILE (what gqlcheck --sdl
// prints: the schema the validator and the executor use). Prints a JSON
// summary; exits 1 when the answer cannot be read.
import { readFileSync } from 'node:fs';

import {
  buildClientSchema,
  buildSchema,
  getIntrospectionQuery,
  isInputObjectType,
  isObjectType,
  isEnumType,
  validateSchema,
} from 'graphql';

function shape(schema) {
  const out = {};
  for (const [name, type] of Object.entries(schema.getTypeMap())) {
    if (name.startsWith('__')) continue;
    let members = [];
    if (isObjectType(type)) {
      members = Object.values(type.getFields()).map(
        (f) => `${f.name}(${f.args.map((a) => `${a.name}: ${a.type}${a.defaultValue !== undefined ? ' = ' + JSON.stringify(a.defaultValue) : ''}`).join(', ')}): ${f.type}`);
    } else if (isInputObjectType(type)) {
      members = Object.values(type.getFields()).map((f) => `${f.name}: ${f.type}`);
    } else if (isEnumType(type)) {
      members = type.getValues().map((v) => v.name);
    }
    out[name] = members.sort();
  }
  return out;
}

const [url, sdlFile] = process.argv.slice(2);
const query = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true,
  directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true });
const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' },
                             body: JSON.stringify({ query }) });
const answer = await r.json();
if (answer.errors) {
  console.error(JSON.stringify(answer.errors));
  process.exit(1);
}
const live = buildClientSchema(answer.data);
const problems = validateSchema(live).map((e) => e.message);
const a = shape(live), b = shape(buildSchema(readFileSync(sdlFile, 'utf8')));
const differences = [];
for (const name of new Set([...Object.keys(a), ...Object.keys(b)])) {
  if (JSON.stringify(a[name]) !== JSON.stringify(b[name]))
    differences.push(name);
}
process.stdout.write(JSON.stringify({ problems, differences, types: Object.keys(a).length }));
