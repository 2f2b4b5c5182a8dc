// Asked for when the server answers 401: an API token, kept for this tab and sent with every call.
import { useState } from "preact/hooks";
import { signIn } from "../session.ts";

export function LoginPage() {
  const [token, setToken] = useState("");
  return (
    <div class="login">
      <form
        class="card form"
        onSubmit={(e) => {
          e.preventDefault();
          if (token.trim() !== "") {
            signIn(token.trim());
            location.reload();
          }
        }}
      >
        <h1>Sign in to Sluice</h1>
        <p class="muted">This node asks for an API token. It is kept in this tab only.</p>
        <label class="field">
          <span>API token</span>
          <input
            name="token"
            type="password"
            autoComplete="off"
            value={token}
            onInput={(e) => setToken(e.currentTarget.value)}
          />
        </label>
        <div class="form-actions">
          <button class="button primary" type="submit" disabled={token.trim() === ""}>
            Sign in
          </button>
        </div>
      </form>
    </div>
  );
}
