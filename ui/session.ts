// The one API client the page uses, and the token it carries: kept in sessionStorage so a reload
// stays signed in and closing the tab forgets it. A 401 from any call asks for the login screen.
import { useEffect, useState } from "preact/hooks";
import { SluiceApi } from "./api.ts";

const TOKEN_KEY = "sluice.token";
const listeners = new Set<(needed: boolean) => void>();
let loginNeeded = false;

export const api = new SluiceApi({
  token: sessionStorage.getItem(TOKEN_KEY) ?? undefined,
  onUnauthorized: () => setLoginNeeded(true),
});

function setLoginNeeded(needed: boolean): void {
  loginNeeded = needed;
  for (const listener of listeners) listener(needed);
}

export function signIn(token: string): void {
  api.token = token;
  sessionStorage.setItem(TOKEN_KEY, token);
  setLoginNeeded(false);
}

export function signOut(): void {
  api.token = undefined;
  sessionStorage.removeItem(TOKEN_KEY);
  setLoginNeeded(true);
}

export function useLoginNeeded(): boolean {
  const [needed, setNeeded] = useState(loginNeeded);
  useEffect(() => {
    listeners.add(setNeeded);
    return () => listeners.delete(setNeeded);
  }, []);
  return needed;
}
