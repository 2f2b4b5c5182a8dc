// The Sluice client library: the public API, for Bun and for browsers (nothing here imports node:
// or bun modules; tests/client/browser-bundle.test.ts bundles this file for the browser to prove it).
export * from "./admin.ts";
export * from "./http.ts";
