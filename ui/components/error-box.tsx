// A server's refusal or a failed request, said plainly: the message, and the code to look up.
import type { ApiError } from "../api.ts";

export function ErrorBox({ error, title }: { error: ApiError | Error | undefined; title?: string }) {
  if (error === undefined) return null;
  const api = error as Partial<ApiError>;
  return (
    <div class="error-box" role="alert">
      <strong>{title ?? "Something went wrong"}</strong>
      <span>{error.message}</span>
      {api.code ? (
        <small>
          {api.name} ({api.code}){api.field ? ` · field ${api.field}` : ""}
        </small>
      ) : null}
    </div>
  );
}
