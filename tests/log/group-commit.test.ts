import { describe, expect, test } from "bun:test";
import { GroupCommit } from "../../lib/log/group-commit.ts";

/** A sync whose completions the test controls, counting how often it started. */
function controlledSync() {
  const pending: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  const sync = () => new Promise<void>((resolve, reject) => pending.push({ resolve, reject }));
  return { sync, pending };
}

describe("GroupCommit", () => {
  test("requests made while a sync runs share the next one", async () => {
    const { sync, pending } = controlledSync();
    const group = new GroupCommit(sync);
    const first = group.request();
    const waiting = [group.request(), group.request(), group.request()];
    expect(group.syncCount).toBe(1);
    pending[0]!.resolve();
    await first;
    await Promise.resolve();
    expect(group.syncCount).toBe(2);
    pending[1]!.resolve();
    await Promise.all(waiting);
    expect(group.syncCount).toBe(2);
  });

  test("a failed sync rejects its requests and the next sync still runs for the waiting ones", async () => {
    const { sync, pending } = controlledSync();
    const group = new GroupCommit(sync);
    const first = group.request();
    const second = group.request();
    pending[0]!.reject(new Error("fsync failed"));
    expect(await first.catch((error: Error) => error.message)).toBe("fsync failed");
    await Promise.resolve();
    await Promise.resolve();
    pending[1]!.resolve();
    await second;
    expect(group.syncCount).toBe(2);
  });

  test("a request after everything settled starts a sync at once", async () => {
    const { sync, pending } = controlledSync();
    const group = new GroupCommit(sync);
    const first = group.request();
    pending[0]!.resolve();
    await first;
    const again = group.request();
    expect(group.syncCount).toBe(2);
    pending[1]!.resolve();
    await again;
  });
});
