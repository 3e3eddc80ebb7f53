// Validates Kubernetes manifests offline: every document of every file (or of stdin, "-") against
// the OpenAPI schema of its kind from kubernetes-models (core, Istio, Argo Workflows). Kinds with no
// schema package (Kubeflow's Profile) get a structural check here; any other kind is an error.
// Prints one line per problem; exit status 1 if any, 0 otherwise.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const models = {
  "batch/v1/Job": ["kubernetes-models/batch/v1/Job", "Job"],
  "batch/v1/CronJob": ["kubernetes-models/batch/v1/CronJob", "CronJob"],
  "networking.k8s.io/v1/NetworkPolicy": ["kubernetes-models/networking.k8s.io/v1/NetworkPolicy", "NetworkPolicy"],
  "v1/ConfigMap": ["kubernetes-models/v1/ConfigMap", "ConfigMap"],
  "rbac.authorization.k8s.io/v1/Role": ["kubernetes-models/rbac.authorization.k8s.io/v1/Role", "Role"],
  "rbac.authorization.k8s.io/v1/RoleBinding": [
    "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding", "RoleBinding"],
  "security.istio.io/v1beta1/AuthorizationPolicy": [
    "@kubernetes-models/istio/security.istio.io/v1beta1/AuthorizationPolicy", "AuthorizationPolicy"],
  "security.istio.io/v1/AuthorizationPolicy": [
    "@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy", "AuthorizationPolicy"],
  "security.istio.io/v1beta1/RequestAuthentication": [
    "@kubernetes-models/istio/security.istio.io/v1beta1/RequestAuthentication", "RequestAuthentication"],
  "argoproj.io/v1alpha1/WorkflowTemplate": [
    "@kubernetes-models/argo-workflows/argoproj.io/v1alpha1/WorkflowTemplate", "WorkflowTemplate"],
};

// kubeflow.org/v1 Profile, as the profile controller's CRD defines it (spec.owner is an rbac Subject).
function checkProfile(doc) {
  const problems = [];
  const owner = doc.spec?.owner;
  if (!doc.metadata?.name) problems.push("metadata.name is required");
  if (doc.metadata?.namespace) problems.push("Profile is cluster-scoped: no metadata.namespace");
  if (!owner || typeof owner !== "object") problems.push("spec.owner is required");
  else {
    if (!["User", "Group"].includes(owner.kind)) problems.push("spec.owner.kind must be User or Group");
    if (typeof owner.name !== "string" || owner.name === "") problems.push("spec.owner.name is required");
  }
  return problems;
}

async function validate(doc) {
  const key = `${doc.apiVersion}/${doc.kind}`;
  if (key === "kubeflow.org/v1/Profile") return checkProfile(doc);
  const model = models[key];
  if (!model) return [`no schema for ${key}`];
  const module = await import(model[0]);
  try {
    new module[model[1]](doc).validate();
    return [];
  } catch (error) {
    return String(error.message).split("\n");
  }
}

let failures = 0;
let documents = 0;
const inputs = process.argv.slice(2);
if (inputs.length === 0) inputs.push("-");
for (const input of inputs) {
  const text = readFileSync(input === "-" ? 0 : input, "utf8");
  for (const parsed of parseAllDocuments(text)) {
    if (parsed.errors.length > 0) {
      console.log(`${input}: YAML error: ${parsed.errors[0].message}`);
      failures++;
      continue;
    }
    const doc = parsed.toJS();
    if (doc === null) continue;
    documents++;
    const name = `${input}: ${doc.kind ?? "?"}/${doc.metadata?.name ?? doc.metadata?.generateName ?? "?"}`;
    for (const problem of await validate(doc)) {
      console.log(`${name}: ${problem}`);
      failures++;
    }
  }
}
console.log(`validate-manifests: ${documents} documents, ${failures} problems`);
process.exit(failures === 0 && documents > 0 ? 0 : 1);
