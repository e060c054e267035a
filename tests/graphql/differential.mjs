// differential.mjs: random variations of the corpus's documents, validated
// by graphql-js and by gql_validate, whose verdicts must agree. The corpus
// checks what its authors thought of; this finds what they did not.
//
//   node tests/graphql/differential.mjs --gqlcheck build/asan/tests/gqlcheck \
//        [--iterations 2000] [--seed 1] [--keep DIR]
//
// Each variation applies one to three token edits (rename, replace a value,
// delete, duplicate, insert a snippet or a directive, swap) to a corpus
// document, mostly one edit to a valid document, which keeps many variations
// near the boundary; those both parsers accept are validated without the
// service's limits (graphql-js has none). The run is deterministic for a
// seed; `make test-graphql` runs 2000 with seed 1.
// Disagreements are printed (and, with --keep, written to DIR), and the exit
// status is 1 if there is any. Documents graphql-js gives up on ("Validation
// aborted", its work budget) or we refuse as too complex are left out.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { graphqlJsVerdict, listCorpus, serviceSchema } from './oracle.mjs';

const args = { gqlcheck: null, iterations: 2000, seed: 1, keep: null };
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i].replace(/^--/, '');
  if (!(key in args) || i + 1 >= process.argv.length) {
    console.error('usage: differential.mjs --gqlcheck PATH [--iterations N] [--seed S] [--keep DIR]');
    process.exit(2);
  }
  args[key] = key === 'iterations' || key === 'seed' ? Number(process.argv[i + 1]) : process.argv[i + 1];
}
if (!args.gqlcheck) {
  console.error('differential: --gqlcheck PATH is required');
  process.exit(2);
}

function run(argv) {
  const r = spawnSync(args.gqlcheck, argv, { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${args.gqlcheck}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

// mulberry32: a small deterministic generator.
let state = args.seed >>> 0;
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (list) => list[Math.floor(random() * list.length)];

const TOKEN =
  /"""[\s\S]*?"""|"(?:\\.|[^"\\\n])*"|#[^\n]*|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\.\.|[_A-Za-z][_0-9A-Za-z]*|[!$&():=@[\]{}|]|\s+|,/g;
const tokenize = (text) => text.match(TOKEN) || [];
const isName = (t) => /^[_A-Za-z]/.test(t);
const isValue = (t) => /^(-?\d|")/.test(t) || t === 'true' || t === 'false' || t === 'null';
const isSpace = (t) => /^(\s+|,|#.*)$/.test(t);

const sdl = run(['--sdl']);
const { schema } = serviceSchema(sdl, run(['--meta']));
const files = listCorpus(join(new URL('.', import.meta.url).pathname, 'corpus')).filter(
  (f) => !f.includes('/limits/'),
);
const corpus = files.map((f) => readFileSync(f, 'utf8'));
// Valid documents are closer to the boundary: most variations start from one.
const validCorpus = files.filter((f) => f.includes('/valid/')).map((f) => readFileSync(f, 'utf8'));

const names = [...new Set([...tokenize(sdl), ...corpus.flatMap(tokenize)].filter(isName))];
const VALUES = [
  '1', '-1', '0', '2147483647', '2147483648', '1.5', '"x"', '""', '"2024-01-15"', '"2024-13-01"',
  '"2024-01-15T10:30:00Z"', '"""x"""', 'true', 'false', 'null', 'asc', 'desc', 'id', '[]', '[1]',
  '[1, null]', '["x"]', '{}', '{id: {_eq: 1}}', '{_eq: "x"}', '$v', '$id', '$limit',
];
const SNIPPETS = [
  ' ...F ', ' ...Missing ', ' ... on insights { id } ', ' ... on tags { id } ', ' ... { id } ',
  ' id ', ' a: title ', ' a: id ', ' __typename ', ' __schema { types { name } } ',
  ' (limit: 1) ', ' (where: {}) ', ' $x: Int ', ' $v: Int = 1 ', ' $id: Int! ',
  ' fragment F on insights { id } ', ' query Q { insights { id } } ', ' { tags { id } } ',
  ' category { name } ', ' tags { name } ', ' insights { id } ',
];
const DIRECTIVES = [' @include(if: true)', ' @skip(if: $v)', ' @deprecated', ' @foo', ' @include'];

function mutate(text) {
  const t = tokenize(text);
  const at = (filter) => {
    const idx = t.map((x, i) => (filter(x) ? i : -1)).filter((i) => i >= 0);
    return idx.length ? pick(idx) : -1;
  };
  const edits = random() < 0.6 ? 1 : 2 + Math.floor(random() * 2);
  for (let e = 0; e < edits; e++) {
    let i;
    switch (Math.floor(random() * 7)) {
      case 0:
        if ((i = at(isName)) >= 0) t[i] = pick(names);
        break;
      case 1:
        if ((i = at((x) => isValue(x) || isName(x))) >= 0) t[i] = pick(VALUES);
        break;
      case 2:
        if ((i = at((x) => !isSpace(x))) >= 0) t.splice(i, 1);
        break;
      case 3:
        if ((i = at((x) => !isSpace(x))) >= 0) t.splice(i, 0, t[i], ' ');
        break;
      case 4:
        t.splice(Math.floor(random() * (t.length + 1)), 0, pick(SNIPPETS));
        break;
      case 5:
        if ((i = at(isName)) >= 0) t.splice(i + 1, 0, pick(DIRECTIVES));
        break;
      default: {
        const a = at(isName);
        const b = at(isName);
        if (a >= 0 && b >= 0) [t[a], t[b]] = [t[b], t[a]];
      }
    }
  }
  return t.join('');
}

const dir = mkdtempSync(join(tmpdir(), 'differential-'));
const disagreements = [];
let compared = 0;
let valid = 0;
let skipped = 0;
const BATCH = 500;
try {
  for (let done = 0; done < args.iterations; done += BATCH) {
    const batch = [];
    for (let k = 0; k < BATCH && done + k < args.iterations; k++) {
      const text = mutate(pick(random() < 0.7 ? validCorpus : corpus));
      const js = graphqlJsVerdict(schema, text);
      const file = join(dir, `${done + k}.graphql`);
      writeFileSync(file, text);
      batch.push({ text, js, file });
    }
    const lines = run(batch.map((b) => b.file)).trim().split('\n');
    lines.forEach((line, k) => {
      const c = JSON.parse(line);
      const { text, js } = batch[k];
      if (js.verdict === 'parse-error' || c.verdict === 'parse-error') {
        if (js.verdict !== c.verdict) skipped++; // the parser's business, not the validator's
        return;
      }
      if (js.message === 'Validation aborted.' || /too complex/.test(c.message || '')) {
        skipped++;
        return;
      }
      compared++;
      if (js.verdict === 'valid') valid++;
      if (js.verdict !== c.verdict) disagreements.push({ text, js, c });
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

for (const d of disagreements.slice(0, 20)) {
  console.error(
    `differential: graphql-js ${d.js.verdict}${d.js.message ? ` (${d.js.message})` : ''}, ` +
      `gql_validate ${d.c.verdict}${d.c.message ? ` (${d.c.path}: ${d.c.message})` : ''}:\n${d.text}\n`,
  );
}
if (args.keep && disagreements.length) {
  mkdirSync(args.keep, { recursive: true });
  disagreements.forEach((d, i) => writeFileSync(join(args.keep, `${i}.graphql`), d.text));
}
console.log(
  `differential: seed ${args.seed}: ${compared} variations both parsers accept ` +
    `(${valid} valid, ${compared - valid} invalid by graphql-js); ` +
    `${disagreements.length} disagreements${skipped ? `; ${skipped} left out` : ''}`,
);
process.exit(disagreements.length ? 1 : 0);
