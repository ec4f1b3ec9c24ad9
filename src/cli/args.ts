/** A bad command line: one clear line, exit code 2 (other failures exit 1). */
export class UsageError extends Error {}

/** Run argument-to-config code, turning its errors into usage errors (bad sizes, masks, names). */
export function asUsage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof UsageError || !(e instanceof Error)) throw e;
    throw new UsageError(e.message);
  }
}

/** Minimal `--flag value` / `--switch` parser with clear errors for unknown or malformed flags. */
export interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
}

/**
 * `positional`: whether the command takes words that are not flags (e.g. `weights fetch NAME`); a
 * stray word elsewhere is an error, and so is a flag given twice (which one was meant?).
 */
export function parseArgs(argv: readonly string[], known: Record<string, 'value' | 'switch'>, options: { positional?: boolean } = {}): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      if (!options.positional) throw new UsageError(`unexpected argument "${arg}" (options start with --; see --help)`);
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    const kind = known[name];
    if (!kind) throw new UsageError(`unknown option --${name}; known: ${Object.keys(known).map((k) => `--${k}`).join(', ')}`);
    if (flags.has(name)) throw new UsageError(`--${name} is given twice; give it once`);
    if (kind === 'switch') {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      flags.set(name, true);
    } else {
      const value = inline ?? argv[++i];
      if (value === undefined || (inline === undefined && value.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
      flags.set(name, value);
    }
  }
  return { positional, flags };
}

export function intFlag(args: ParsedArgs, name: string, fallback: number, min = 0): number {
  const raw = args.flags.get(name);
  if (raw === undefined) return fallback;
  // Decimal digits only: Number() would also take 0x20, 1e3 or an empty string.
  const n = raw === true || !/^[-+]?\d+$/.test(raw) ? NaN : Number(raw);
  if (raw === true || !Number.isInteger(n) || n < min) throw new UsageError(`--${name} ${raw === true ? '' : raw} is invalid; expected an integer ≥ ${min}`);
  return n;
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const raw = args.flags.get(name);
  return raw === true ? undefined : raw;
}

/** A decimal flag's value, or `fallback` when it is not given; a clear error when it is not a number. */
export function numberFlag(args: ParsedArgs, name: string, fallback: number): number {
  const raw = stringFlag(args, name);
  if (raw === undefined) return fallback;
  const n = parseDecimal(raw);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} ${raw} is not a number`);
  return n;
}

/** A decimal number (as `--lr 3e-4` or `--beta 0.5`); hexadecimal, empty or partly numeric text is refused. */
export function parseDecimal(raw: string): number {
  return /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(raw.trim()) ? Number(raw) : NaN;
}
