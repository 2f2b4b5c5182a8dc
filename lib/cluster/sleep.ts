// A pause for retry loops, on the real clock (cluster loops run against real etcd and peers).
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
