// A small command-line parser shared by the subcommands: each declares its options once, and the
// same declaration parses argv and prints `--help`. Mistakes are UsageErrors (exit code 2).
import { EXIT, type ExitCode } from "./exit-codes.ts";

export interface OptionSpec {
  /** Long name without dashes: "key-separator". */
  name: string;
  /** Placeholder of its value ("URL"); an option without one is a boolean switch. */
  value?: string;
  help: string;
  /** Shown in --help; the command applies it. */
  defaultText?: string;
}

export interface CommandSpec {
  /** As typed: "topics create". */
  name: string;
  usage: string;
  summary: string;
  options: OptionSpec[];
  /** Extra paragraphs for --help. */
  details?: string;
}

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export interface ParsedArgs {
  /** The last value of each option given (true for a switch). */
  options: Map<string, string | true>;
  /** Every value of each option, in order: `--config a=1 --config b=2`. */
  repeated: Map<string, string[]>;
  positionals: string[];
  help: boolean;
}

export function parseArgs(spec: CommandSpec, argv: string[]): ParsedArgs {
  const options = new Map<string, string | true>();
  const repeated = new Map<string, string[]>();
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    if (!arg.startsWith("--") || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const option = spec.options.find((candidate) => candidate.name === name);
    if (option === undefined) throw new UsageError(`${spec.name}: unknown option --${name} (see --help)`);
    if (option.value === undefined) {
      if (eq >= 0) throw new UsageError(`${spec.name}: --${name} takes no value`);
      options.set(name, true);
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`${spec.name}: --${name} needs a value (${option.value})`);
    options.set(name, value);
    repeated.set(name, [...(repeated.get(name) ?? []), value]);
  }
  return { options, repeated, positionals, help };
}

export function helpText(spec: CommandSpec): string {
  const lines = [`Usage: sluice ${spec.usage}`, "", spec.summary];
  const options: OptionSpec[] = [...spec.options, { name: "help", help: "show this help" }];
  const left = options.map((o) => `  --${o.name}${o.value ? ` ${o.value}` : ""}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  lines.push("", "Options:");
  options.forEach((o, i) => {
    const suffix = o.defaultText === undefined ? "" : ` (default: ${o.defaultText})`;
    lines.push(`${left[i]!.padEnd(width)}${o.help}${suffix}`);
  });
  if (spec.details) lines.push("", spec.details);
  return `${lines.join("\n")}\n`;
}

/** A string option, or undefined when absent. */
export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.options.get(name);
  return typeof value === "string" ? value : undefined;
}

/** An integer option within [min, max]; UsageError naming the option otherwise. */
export function intOption(
  args: ParsedArgs,
  name: string,
  bounds: { min: number; max?: number },
): number | undefined {
  const text = stringOption(args, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  const max = bounds.max ?? Number.MAX_SAFE_INTEGER;
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value) || value < bounds.min || value > max) {
    throw new UsageError(
      `--${name} must be an integer from ${bounds.min}${bounds.max === undefined ? "" : ` to ${max}`}, not "${text}"`,
    );
  }
  return value;
}

/** Exactly `count` positionals named by `names`, else a UsageError. */
export function expectPositionals(spec: CommandSpec, args: ParsedArgs, names: string[]): string[] {
  if (args.positionals.length !== names.length) {
    const wanted = names.length === 0 ? "no arguments" : names.map((n) => `<${n}>`).join(" ");
    throw new UsageError(`${spec.name}: expected ${wanted} (see --help)`);
  }
  return args.positionals;
}

/** A command with actions (`topics create …`): the action named, its spec and its parsed args. */
export interface ParsedAction<Action extends string> {
  action: Action;
  spec: CommandSpec;
  args: ParsedArgs;
}

/**
 * Picks the action of a command with actions and parses its args; the exit code instead when there
 * is nothing to run: no action (usage, exit 2) or `--help` on the command or the action (exit 0).
 */
export function parseAction<Specs extends Record<string, CommandSpec>>(
  command: CommandSpec,
  specs: Specs,
  argv: string[],
  writeOut: (text: string) => void,
): ParsedAction<keyof Specs & string> | ExitCode {
  const [action, ...rest] = argv;
  const actions = Object.keys(specs);
  if (action === undefined || action === "--help" || action === "-h") {
    writeOut(`${helpText(command)}\nActions: ${actions.join(", ")}\n`);
    return action === undefined ? EXIT.usage : EXIT.ok;
  }
  if (!Object.hasOwn(specs, action)) {
    throw new UsageError(`${command.name}: unknown action "${action}" (${actions.join(", ")})`);
  }
  const spec: CommandSpec = specs[action]!;
  const args = parseArgs(spec, rest);
  if (args.help) {
    writeOut(helpText(spec));
    return EXIT.ok;
  }
  return { action, spec, args };
}

/** A comma-separated list of non-negative integers given to `--option` (partitions, node ids). */
export function integerList(option: string, text: string, example: string): number[] {
  const parts = text.split(",").map((part) => part.trim());
  if (!parts.every((part) => /^\d+$/.test(part))) {
    throw new UsageError(`--${option} wants numbers like ${example}, not "${text}"`);
  }
  return parts.map(Number);
}
