// Byte helpers the codecs share: fixed-width integers, and the LZ77 copies of LZ4 and Snappy.

export function copyLiterals(
  input: Uint8Array,
  inputOffset: number,
  output: Uint8Array,
  outputOffset: number,
  n: number,
) {
  if (n > 32) {
    output.set(input.subarray(inputOffset, inputOffset + n), outputOffset);
    return;
  }
  for (let k = 0; k < n; k++) output[outputOffset + k] = input[inputOffset + k]!;
}

/** Copies n bytes from `distance` back; an overlapping copy repeats the pattern, as LZ77 intends. */
export function copyMatch(output: Uint8Array, outputOffset: number, distance: number, n: number) {
  const from = outputOffset - distance;
  if (distance >= n && n > 32) {
    output.copyWithin(outputOffset, from, from + n);
    return;
  }
  for (let k = 0; k < n; k++) output[outputOffset + k] = output[from + k]!;
}

export function readUint32LE(data: Uint8Array, offset: number): number {
  return (
    (data[offset]! | (data[offset + 1]! << 8) | (data[offset + 2]! << 16) | (data[offset + 3]! << 24)) >>> 0
  );
}

export function writeUint32LE(data: Uint8Array, offset: number, value: number): void {
  data[offset] = value & 0xff;
  data[offset + 1] = (value >>> 8) & 0xff;
  data[offset + 2] = (value >>> 16) & 0xff;
  data[offset + 3] = value >>> 24;
}

export function readInt32BE(data: Uint8Array, offset: number): number {
  return (data[offset]! << 24) | (data[offset + 1]! << 16) | (data[offset + 2]! << 8) | data[offset + 3]!;
}
