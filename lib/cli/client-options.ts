// What every client command shares: where the node is (--url, SLUICE_URL) and the token for it
// (--token, SLUICE_TOKEN), and the client library's errors turned into exit codes.
import { SluiceAdmin } from "../client/admin.ts";
import type { OptionSpec, ParsedArgs } from "./command.ts";
import { stringOption } from "./command.ts";

export const URL_DEFAULT = "http://127.0.0.1:8080";

export const CLIENT_OPTIONS: OptionSpec[] = [
  { name: "url", value: "URL", help: "the node", defaultText: `$SLUICE_URL or ${URL_DEFAULT}` },
  { name: "token", value: "TOKEN", help: "API token, sent as a bearer token", defaultText: "$SLUICE_TOKEN" },
];

export interface Connection {
  baseUrl: string;
  token: string | undefined;
}

export function connectionOf(args: ParsedArgs, env: Record<string, string | undefined>): Connection {
  return {
    baseUrl: stringOption(args, "url") ?? env.SLUICE_URL ?? URL_DEFAULT,
    token: stringOption(args, "token") ?? env.SLUICE_TOKEN,
  };
}

export function adminOf(connection: Connection): SluiceAdmin {
  return new SluiceAdmin(
    connection.token === undefined
      ? { baseUrl: connection.baseUrl }
      : { baseUrl: connection.baseUrl, token: connection.token },
  );
}
