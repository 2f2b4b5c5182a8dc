// The client library's errors as exit codes. Apart from client-options.ts so that `sluice serve`, which
// maps errors too, does not load the client.
import { isSluiceClientError } from "../client/http.ts";
import { EXIT, type ExitCode } from "./exit-codes.ts";

/** The exit code for an error the client library threw, or undefined when it is not one. */
export function exitCodeOfClientError(error: unknown): ExitCode | undefined {
  if (!isSluiceClientError(error)) return undefined;
  if (error.status === 0 && (error.name === "NETWORK_ERROR" || error.name === "TIMEOUT"))
    return EXIT.unavailable;
  if (error.status === 404) return EXIT.notFound;
  if (error.status === 409) return EXIT.conflict;
  return EXIT.failure;
}
