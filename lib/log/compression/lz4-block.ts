// One independent LZ4 block: a greedy compressor in liblz4's shape, and a decoder bounded by an output limit.
//
// LZ4 block (lz4_Block_format.md): sequences back to back, each
// | offset | size | field                                                                          |
// |--------|------|--------------------------------------------------------------------------------|
// | 0      | 1    | token: literal length (bits 7-4), match length - 4 (bits 3-0)                  |
// | 1      | 0-n  | literal length continued when 15: bytes added until one is below 255           |
// | ...    | ...  | literals                                                                       |
// | ...    | 2    | match offset, uint16 LE, 1 .. 65535 bytes back (absent in the last sequence)   |
// | ...    | 0-n  | match length continued when 15, as the literal length                          |
import { assert } from "../../assert.ts";
import { copyLiterals, copyMatch, readUint32LE } from "./bytes.ts";
import { corrupt } from "./codec-errors.ts";

const LZ4_MIN_MATCH = 4;
/** The last 5 bytes of a block are literals, and the last match starts 12 or more bytes before the end: liblz4 rejects blocks that break either. */
const LZ4_LAST_LITERALS = 5;
const LZ4_MFLIMIT = 12;
const LZ4_HASH_LOG = 14;
const LZ4_SKIP_TRIGGER = 6;

export function lz4CompressBound(inputBytes: number): number {
  return inputBytes + Math.floor(inputBytes / 255) + 16;
}

const lz4HashTable = new Int32Array(1 << LZ4_HASH_LOG);

/** Greedy LZ4 (as liblz4's fast mode) of input[start, end) as one independent block at output[outputStart..]; returns its end. */
export function lz4CompressBlock(
  input: Uint8Array,
  start: number,
  end: number,
  output: Uint8Array,
  outputStart: number,
) {
  assert(end - start <= 0x10000, "an LZ4 block must fit 16-bit match offsets");
  let o = outputStart;
  let anchor = start;
  if (end - start > LZ4_MFLIMIT) {
    const table = lz4HashTable;
    table.fill(-1);
    const lastMatchStart = end - LZ4_MFLIMIT;
    const matchEndLimit = end - LZ4_LAST_LITERALS;
    let p = start;
    let misses = 1 << LZ4_SKIP_TRIGGER;
    while (p <= lastMatchStart) {
      const sequence = readUint32LE(input, p);
      const slot = Math.imul(sequence, 2654435761) >>> (32 - LZ4_HASH_LOG);
      const candidate = table[slot]!;
      table[slot] = p;
      if (candidate < 0 || readUint32LE(input, candidate) !== sequence) {
        p += misses++ >> LZ4_SKIP_TRIGGER; // stride faster through data that does not compress
        continue;
      }
      misses = 1 << LZ4_SKIP_TRIGGER;
      let matchStart = p;
      let reference = candidate;
      while (matchStart > anchor && reference > start && input[matchStart - 1] === input[reference - 1]) {
        matchStart--;
        reference--;
      }
      let matchEnd = p + LZ4_MIN_MATCH;
      while (matchEnd < matchEndLimit && input[matchEnd] === input[reference + (matchEnd - matchStart)])
        matchEnd++;
      o = lz4WriteSequence(
        input,
        anchor,
        matchStart - anchor,
        output,
        o,
        matchStart - reference,
        matchEnd - matchStart,
      );
      anchor = p = matchEnd;
    }
  }
  return lz4WriteSequence(input, anchor, end - anchor, output, o, 0, 0);
}

/** Writes token, literals and (when matchBytes > 0) offset and match length; returns the output end. */
function lz4WriteSequence(
  input: Uint8Array,
  literalStart: number,
  literalBytes: number,
  output: Uint8Array,
  outputStart: number,
  offset: number,
  matchBytes: number,
): number {
  const matchCode = matchBytes === 0 ? 0 : matchBytes - LZ4_MIN_MATCH;
  output[outputStart] = (Math.min(literalBytes, 15) << 4) | Math.min(matchCode, 15);
  let o = writeLz4Length(output, outputStart + 1, literalBytes);
  copyLiterals(input, literalStart, output, o, literalBytes);
  o += literalBytes;
  if (matchBytes === 0) return o;
  output[o] = offset & 0xff;
  output[o + 1] = offset >>> 8;
  return writeLz4Length(output, o + 2, matchCode);
}

function writeLz4Length(output: Uint8Array, offset: number, length: number): number {
  if (length < 15) return offset;
  let rest = length - 15;
  let o = offset;
  for (; rest >= 255; rest -= 255) output[o++] = 255;
  output[o] = rest;
  return o + 1;
}

/**
 * Decodes one independent LZ4 block into output[outputStart, outputLimit). Returns the output end, or -1 when
 * the block would write past outputLimit; throws on anything malformed.
 */
export function lz4DecodeBlock(
  input: Uint8Array,
  inputStart: number,
  inputEnd: number,
  output: Uint8Array,
  outputStart: number,
  outputLimit: number,
): number {
  let i = inputStart;
  let o = outputStart;
  for (;;) {
    if (i >= inputEnd) throw corrupt("lz4", "block ends without its last literals");
    const token = input[i++]!;
    let literalBytes = token >>> 4;
    if (literalBytes === 15) {
      let byte: number;
      do {
        if (i >= inputEnd) throw corrupt("lz4", "truncated literal length");
        byte = input[i++]!;
        literalBytes += byte;
      } while (byte === 255);
    }
    if (literalBytes > inputEnd - i) throw corrupt("lz4", "literals run past the block");
    if (literalBytes > outputLimit - o) return -1;
    copyLiterals(input, i, output, o, literalBytes);
    i += literalBytes;
    o += literalBytes;
    if (i === inputEnd) return o;
    if (inputEnd - i < 2) throw corrupt("lz4", "truncated match offset");
    const offset = input[i]! | (input[i + 1]! << 8);
    i += 2;
    if (offset === 0 || offset > o - outputStart) throw corrupt("lz4", "match offset out of range");
    let matchBytes = token & 15;
    if (matchBytes === 15) {
      let byte: number;
      do {
        if (i >= inputEnd) throw corrupt("lz4", "truncated match length");
        byte = input[i++]!;
        matchBytes += byte;
      } while (byte === 255);
    }
    matchBytes += LZ4_MIN_MATCH;
    if (matchBytes > outputLimit - o) return -1;
    copyMatch(output, o, offset, matchBytes);
    o += matchBytes;
  }
}
