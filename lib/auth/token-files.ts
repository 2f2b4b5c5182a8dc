// The two files tokens live in: `<dataDir>/tokens.json`, Sluice's own, holding the tokens made through
// the API (rewritten atomically on each change), and the operator's tokens file (authTokensFile), read
// once at start. Both hold SHA-256 hashes, never secrets.
import { z } from "zod";
import { SluiceError } from "../errors.ts";
import { joinPath, type Storage } from "../storage/storage.ts";
import { TOKENS_MAX } from "./limits.ts";
import { sha256Hex, type TokenRecord, tokenFields } from "./token-record.ts";

/** Where API tokens are kept, in the data directory beside topics.json. */
export const TOKENS_FILE = "tokens.json";

const storedToken = z.object({ ...tokenFields, sha256: sha256Hex, createdAtMs: z.number().int() }).strict();
const storedFile = z.object({ version: z.literal(1), tokens: z.array(storedToken).max(TOKENS_MAX) }).strict();

const operatorToken = z.object({ ...tokenFields, sha256: sha256Hex }).strict();
const operatorFile = z.object({ tokens: z.array(operatorToken).max(TOKENS_MAX) }).strict();

/** The API's tokens, from the data directory; none when the file is not there yet. */
export function readStoredTokens(storage: Storage, dataDir: string): TokenRecord[] {
  const path = joinPath(dataDir, TOKENS_FILE);
  const parsed = parseJsonFile(storage, path, storedFile, "STORAGE_ERROR");
  return parsed === undefined ? [] : parsed.tokens.map((token) => ({ ...token, source: "api" as const }));
}

export function writeStoredTokens(storage: Storage, dataDir: string, tokens: readonly TokenRecord[]): void {
  const stored = tokens.map(({ source: _source, ...token }) => token);
  const bytes = new TextEncoder().encode(`${JSON.stringify({ version: 1, tokens: stored }, null, 2)}\n`);
  storage.writeFileAtomic(joinPath(dataDir, TOKENS_FILE), bytes);
}

/** The operator's tokens file: `{"tokens": [{name, sha256, grants, ...}]}`; it must exist. */
export function readOperatorTokens(storage: Storage, path: string): TokenRecord[] {
  const parsed = parseJsonFile(storage, path, operatorFile, "INVALID_CONFIG");
  if (parsed === undefined) {
    throw new SluiceError("INVALID_CONFIG", `authTokensFile: ${path} does not exist`, {
      field: "authTokensFile",
    });
  }
  return parsed.tokens.map((token) => ({ ...token, source: "file" as const }));
}

function parseJsonFile<T extends z.ZodType>(
  storage: Storage,
  path: string,
  schema: T,
  errorName: "STORAGE_ERROR" | "INVALID_CONFIG",
): z.output<T> | undefined {
  const bytes = storage.readFile(path);
  if (bytes === undefined) return undefined;
  const field = errorName === "INVALID_CONFIG" ? "authTokensFile" : undefined;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new SluiceError(errorName, `${path} is not valid JSON: ${String(error)}`, { field });
  }
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new SluiceError(errorName, `${path}: ${issue.path.join(".") || "file"}: ${issue.message}`, { field });
}
