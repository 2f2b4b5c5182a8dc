// Types for snappyjs 0.7 (raw Snappy blocks, no framing), which ships none.
declare module "snappyjs" {
  /** One raw Snappy block: varint uncompressed length, then elements. */
  export function compress(uncompressed: Uint8Array): Uint8Array;
  export function uncompress(compressed: Uint8Array, maxLength?: number): Uint8Array;
}
