// Sluice's entry point, and the binary's: `sluice [command] [options]`. With no command it serves
// (lib/cli/serve.ts); lib/cli/run-cli.ts lists the others and maps failures to exit codes.
// No top-level await: the compiled binary carries bytecode, which Bun emits for CommonJS only.
import { runCli } from "./lib/cli/run-cli.ts";

void runCli(process.argv.slice(2), {
  env: process.env,
  writeOut: (text) => process.stdout.write(text),
  writeErr: (text) => process.stderr.write(text),
}).then((exitCode) => process.exit(exitCode));
