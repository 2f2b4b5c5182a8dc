// Sluice's entry point, and the binary's: `sluice [command] [options]`. With no command it serves
// (lib/cli/serve.ts); lib/cli/run-cli.ts lists the others and maps failures to exit codes.
import { runCli } from "./lib/cli/run-cli.ts";

const exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  writeOut: (text) => process.stdout.write(text),
  writeErr: (text) => process.stderr.write(text),
});
process.exit(exitCode);
