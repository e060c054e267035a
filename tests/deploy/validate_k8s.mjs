// validate_k8s.mjs: validates Kubernetes objects against the API's OpenAPI
// schemas, offline: kubernetes-models (npm, pinned in package-lock.json;
// the schemas of Kubernetes 1.27) has one model per apiVersion and kind,
// whose validate() checks an object with the schema.
//
//   node tests/deploy/validate_k8s.mjs OBJECTS.json
//
// OBJECTS.json holds an array of objects (what tests/deploy renders from
// deploy/kubernetes/). Prints one line per object; exits 1 when any is
// invalid or of a kind the package does not know.
import { readFileSync } from "node:fs";

const objects = JSON.parse(readFileSync(process.argv[2], "utf8"));
let failed = 0;
for (const obj of objects) {
  const what = `${obj.apiVersion} ${obj.kind} ${obj.metadata?.name}`;
  let Model;
  try {
    Model = (await import(`kubernetes-models/${obj.apiVersion}/${obj.kind}`))[obj.kind];
  } catch (e) {
    console.log(`unknown: ${what}: ${e.message}`);
    failed++;
    continue;
  }
  try {
    new Model(obj).validate();
    console.log(`valid: ${what}`);
  } catch (e) {
    console.log(`invalid: ${what}: ${e.message}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
