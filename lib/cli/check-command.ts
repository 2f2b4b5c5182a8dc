// `sluice check`: the offline scan of a data directory (lib/check/), printed for a person or as JSON,
// with exit code 6 when anything is damaged.
import { statSync } from "node:fs";
import { type CheckReport, checkDataDir } from "../check/data-dir-check.ts";
import {
  type CommandSpec,
  expectPositionals,
  helpText,
  parseArgs,
  stringOption,
  UsageError,
} from "./command.ts";
import { EXIT, type ExitCode } from "./exit-codes.ts";
import { createProgress, formatBytes } from "./progress.ts";
import type { CliContext } from "./run-cli.ts";

export const checkSpec: CommandSpec = {
  name: "check",
  usage: "check [--data-dir DIR] [--json]",
  summary:
    "Scans a data directory offline and changes nothing: every batch's length, offsets and CRC-32C, every\n" +
    "index entry, and what recovery would truncate or rebuild on the next start.",
  options: [
    { name: "data-dir", value: "DIR", help: "the data directory", defaultText: "$SLUICE_DATA_DIR or ./data" },
    { name: "json", help: "print the report as JSON on stdout" },
  ],
  details:
    "Run it on a stopped node: a running node's active segment may show a half-written tail.\n" +
    "Exit codes: 0 no damage, 6 damage found, 2 bad usage (no such directory), 1 the scan failed.",
};

export async function runCheck(argv: string[], context: CliContext): Promise<ExitCode> {
  const args = parseArgs(checkSpec, argv);
  if (args.help) {
    context.writeOut(helpText(checkSpec));
    return EXIT.ok;
  }
  expectPositionals(checkSpec, args, []);
  const dataDir = stringOption(args, "data-dir") ?? context.env.SLUICE_DATA_DIR ?? "./data";
  if (!statSync(dataDir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new UsageError(`check: ${dataDir} is not a directory`);
  }
  const progress = createProgress();
  const report = await checkDataDir(dataDir, {
    onProgress: (scanned, total) =>
      progress.update(`checking ${formatBytes(scanned)} of ${formatBytes(total)}`),
  });
  progress.done();
  context.writeOut(args.options.has("json") ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.damaged ? EXIT.damageFound : EXIT.ok;
}

function formatReport(report: CheckReport): string {
  const lines = [
    `${report.dataDir}: ${report.topics} topics, ${report.partitions} partitions, ${report.segments} segments, ` +
      `${report.batches} batches, ${formatBytes(report.bytesScanned)} checked`,
  ];
  const { recovery } = report;
  if (recovery !== undefined) {
    const how = recovery.cleanShutdown ? "after a clean shutdown" : "after an unclean stop";
    lines.push(
      `next start (${how}): scans ${recovery.segmentsScanned} segments, truncates ${recovery.truncatedBytes} bytes, ` +
        `drops ${recovery.deletedSegments} segments, rebuilds ${recovery.rebuiltIndexes} indexes`,
    );
    for (const p of recovery.partitions) {
      lines.push(
        `  ${p.topic}-${p.partition}: would truncate ${p.truncatedBytes} bytes (${p.reasons.join("; ")})`,
      );
    }
    const damagedLogs = report.findings.some((f) => f.severity === "damage" && f.file.endsWith(".log"));
    if (recovery.cleanShutdown && damagedLogs) {
      lines.push(
        "  note: a clean shutdown makes the next start trust the segments; damage in them stays until it is repaired",
      );
    }
  }
  for (const finding of report.findings)
    lines.push(`${finding.severity.toUpperCase()} ${finding.file}: ${finding.message}`);
  lines.push(report.damaged ? "result: DAMAGED" : "result: OK");
  return `${lines.join("\n")}\n`;
}
