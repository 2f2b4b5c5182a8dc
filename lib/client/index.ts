// The Sluice client library: the public API, for Bun and for browsers (nothing here imports node:
// or bun modules; tests/client/browser-bundle.test.ts bundles this file for the browser to prove it).
export * from "./admin.ts";
export { decodeBatches } from "./batch-decoding.ts";
export * from "./consumer.ts";
export * from "./http.ts";
export * from "./producer.ts";
export type { Payload, ProducerHeaders, ProducerRecord, RecordMetadata } from "./producer-record.ts";
