// Loads something from the API now and every `intervalMs`, keeping the last good answer on screen
// while a reload runs and showing the error when one fails.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { ApiError } from "./api.ts";

export interface Polled<T> {
  data: T | undefined;
  error: ApiError | undefined;
  reload: () => Promise<void>;
}

export function usePoll<T>(load: () => Promise<T>, intervalMs: number, deps: unknown[] = []): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const alive = useRef(true);
  const reload = useCallback(async () => {
    try {
      const value = await load();
      if (!alive.current) return;
      setData(value);
      setError(undefined);
    } catch (caught) {
      if (alive.current) setError(caught as ApiError);
    }
  }, deps);
  useEffect(() => {
    alive.current = true;
    setData(undefined);
    setError(undefined);
    void reload();
    const timer = intervalMs > 0 ? setInterval(() => void reload(), intervalMs) : undefined;
    return () => {
      alive.current = false;
      clearInterval(timer);
    };
  }, [reload, intervalMs]);
  return { data, error, reload };
}
