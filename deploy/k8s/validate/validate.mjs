// Reads rendered manifests (several YAML documents) on stdin and validates each object against the Kubernetes API
// schema of its apiVersion and kind (the kubernetes-models package, generated from the Kubernetes OpenAPI spec).
// Prints one line per object; exit 1 when any object is invalid or of an unknown kind.
import { parseAllDocuments } from "yaml";

const input = await new Promise((resolve) => {
  let text = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
});

let failures = 0;
for (const document of parseAllDocuments(input)) {
  const object = document.toJS();
  if (!object) continue;
  const { apiVersion, kind } = object;
  const name = `${kind}/${object.metadata?.name}`;
  // "apps/v1" -> kubernetes-models/apps/v1/Kind; the core group "v1" -> kubernetes-models/v1/Kind.
  let model;
  try {
    model = (await import(`kubernetes-models/${apiVersion}/${kind}`))[kind];
  } catch {
    console.log(`UNKNOWN  ${name}: no schema for ${apiVersion} ${kind}`);
    failures++;
    continue;
  }
  try {
    new model(object).validate();
    console.log(`valid    ${name}`);
  } catch (error) {
    console.log(`INVALID  ${name}: ${error.message}`);
    failures++;
  }
}
process.exit(failures === 0 ? 0 : 1);
