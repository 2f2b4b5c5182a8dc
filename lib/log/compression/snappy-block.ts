// A strict raw Snappy block decoder: every element bounds-checked, the declared length filled exactly.
//
// Raw Snappy block (Google's format_description.txt), little-endian:
// | offset | size | field                                                                          |
// |--------|------|--------------------------------------------------------------------------------|
// | 0      | 1-5  | uncompressed length, base-128 varint of at most 32 bits                        |
// | ...    | ...  | elements, each a tag byte whose bits 1-0 give its kind:                        |
// |        |      | 00 literal: length - 1 in bits 7-2, or 60-63 for 1-4 bytes of it that follow,  |
// |        |      |    then the literal bytes                                                      |
// |        |      | 01 copy: length - 4 in bits 4-2, offset bits 10-8 in bits 7-5, 1 offset byte   |
// |        |      | 10 copy: length - 1 in bits 7-2, then a 2-byte offset                          |
// |        |      | 11 copy: length - 1 in bits 7-2, then a 4-byte offset                          |
import { copyLiterals, copyMatch, readUint32LE } from "./bytes.ts";
import { corrupt, tooLarge } from "./codec-errors.ts";

/** Decodes raw Snappy blocks at [start, end) pairs back to back, sizing the output from their declared lengths first. */
export function snappyDecodeChunks(
  data: Uint8Array,
  chunks: readonly number[],
  maxOutputBytes: number,
): Uint8Array {
  let total = 0;
  for (let i = 0; i < chunks.length; i += 2) {
    total += snappyDeclaredLength(data, chunks[i]!, chunks[i + 1]!)[0];
    if (total > maxOutputBytes) throw tooLarge("snappy", maxOutputBytes);
  }
  const output = new Uint8Array(total);
  let outputOffset = 0;
  for (let i = 0; i < chunks.length; i += 2) {
    const [length, headerBytes] = snappyDeclaredLength(data, chunks[i]!, chunks[i + 1]!);
    snappyDecodeBlock(
      data,
      chunks[i]! + headerBytes,
      chunks[i + 1]!,
      output,
      outputOffset,
      outputOffset + length,
    );
    outputOffset += length;
  }
  return output;
}

/** A raw block opens with its uncompressed length as a little-endian base-128 varint of at most 32 bits. */
function snappyDeclaredLength(
  data: Uint8Array,
  start: number,
  end: number,
): [length: number, headerBytes: number] {
  let length = 0;
  for (let i = 0; i < 5 && start + i < end; i++) {
    const byte = data[start + i]!;
    length += (byte & 0x7f) * 2 ** (7 * i);
    if (byte < 0x80) {
      if (length > 0xffffffff) break;
      return [length, i + 1];
    }
  }
  throw corrupt("snappy", "bad block length varint");
}

/** Decodes one raw Snappy block's elements into output[outputStart, outputEnd), which they must fill exactly. */
function snappyDecodeBlock(
  input: Uint8Array,
  inputStart: number,
  inputEnd: number,
  output: Uint8Array,
  outputStart: number,
  outputEnd: number,
): void {
  let i = inputStart;
  let o = outputStart;
  while (i < inputEnd) {
    const tag = input[i++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let length = (tag >>> 2) + 1;
      if (length > 60) {
        const lengthBytes = length - 60;
        if (inputEnd - i < lengthBytes) throw corrupt("snappy", "truncated literal length");
        length = 1;
        for (let b = 0; b < lengthBytes; b++) length += input[i + b]! * 2 ** (8 * b);
        i += lengthBytes;
      }
      if (length > inputEnd - i || length > outputEnd - o) {
        throw corrupt("snappy", "literal runs past the end");
      }
      copyLiterals(input, i, output, o, length);
      i += length;
      o += length;
      continue;
    }
    let length: number;
    let offset: number;
    if (kind === 1) {
      if (inputEnd - i < 1) throw corrupt("snappy", "truncated copy");
      length = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | input[i]!;
      i += 1;
    } else if (kind === 2) {
      if (inputEnd - i < 2) throw corrupt("snappy", "truncated copy");
      length = (tag >>> 2) + 1;
      offset = input[i]! | (input[i + 1]! << 8);
      i += 2;
    } else {
      if (inputEnd - i < 4) throw corrupt("snappy", "truncated copy");
      length = (tag >>> 2) + 1;
      offset = readUint32LE(input, i);
      i += 4;
    }
    if (offset === 0 || offset > o - outputStart) throw corrupt("snappy", "copy offset out of range");
    if (length > outputEnd - o) throw corrupt("snappy", "copy runs past the declared length");
    copyMatch(output, o, offset, length);
    o += length;
  }
  if (o !== outputEnd) throw corrupt("snappy", "block shorter than its declared length");
}
