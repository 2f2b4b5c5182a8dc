// Batch compression codecs: one contract run against Bun's native zlib/zstd and against the pure-JS path
// browsers take, plus known-answer vectors written by other implementations.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { isSluiceError } from "../../lib/errors.ts";
import {
  CODEC_IDS,
  type CodecName,
  codecFromId,
  compress,
  compressPortable,
  decompress,
  decompressPortable,
} from "../../lib/log/compression.ts";

const COMPRESSED_CODECS = ["gzip", "snappy", "lz4", "zstd"] as const;
const MIB = 1024 * 1024;
const FAST_CHECK_SEED = 0x5111ce;

/** mulberry32: a small seeded PRNG, so every run sees the same bytes. */
function prng(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(seed: number, length: number): Uint8Array {
  const next = prng(seed);
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (next() * 256) | 0;
  return bytes;
}

/** JSON lines like a batch of events: compressible, but not trivially. */
function jsonLikeBytes(seed: number, length: number): Uint8Array {
  const next = prng(seed);
  const events = ["click", "view", "purchase", "signup"];
  let text = "";
  for (let i = 0; text.length < length; i++) {
    const event = events[(next() * events.length) | 0];
    text += `{"id":${i},"user":"user-${(next() * 5000) | 0}","event":"${event}","amount":${(next() * 1000).toFixed(2)}}\n`;
  }
  return new TextEncoder().encode(text.slice(0, length));
}

function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (byte) => Number.parseInt(byte, 16));
}

function fromBase64(base64: string): Uint8Array {
  return Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
}

const encode = (text: string) => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** The SluiceError name a call throws, "returned" when it does not throw, or the foreign error's name. */
function outcomeOf(run: () => unknown): string {
  try {
    run();
    return "returned";
  } catch (error) {
    if (isSluiceError(error)) return error.errorName;
    return `foreign ${(error as Error)?.name}: ${(error as Error)?.message}`;
  }
}

const BACKENDS = [
  { name: "on Bun's native zlib and zstd", compress, decompress },
  {
    name: "on the pure-JS path browsers take",
    // fzstd only decompresses, so zstd input for this path comes from Bun's libzstd.
    compress: (codec: CodecName, data: Uint8Array) =>
      codec === "zstd" ? compress(codec, data) : compressPortable(codec, data),
    decompress: decompressPortable,
  },
];

describe("codec ids", () => {
  test("codecFromId names codecs 0-4 as Kafka numbers them", () => {
    expect([0, 1, 2, 3, 4].map(codecFromId)).toEqual(["none", "gzip", "snappy", "lz4", "zstd"]);
    for (const [name, id] of Object.entries(CODEC_IDS)) expect(codecFromId(id)).toBe(name as CodecName);
  });

  test("codecFromId rejects 5-7 as UNSUPPORTED_COMPRESSION_TYPE", () => {
    for (const id of [5, 6, 7]) expect(outcomeOf(() => codecFromId(id))).toBe("UNSUPPORTED_COMPRESSION_TYPE");
  });
});

for (const backend of BACKENDS) {
  describe(`codecs ${backend.name}`, () => {
    const inputs: Record<string, Uint8Array> = {
      empty: new Uint8Array(0),
      small: encode("one small record"),
      "1 MiB random": randomBytes(1, MIB),
      "1 MiB compressible": jsonLikeBytes(2, MIB),
    };

    for (const codec of ["none", ...COMPRESSED_CODECS] as const) {
      test(`${codec} round-trips empty, small, 1 MiB random and 1 MiB compressible input`, () => {
        for (const [label, input] of Object.entries(inputs)) {
          const compressed = backend.compress(codec, input);
          const output = backend.decompress(codec, compressed, input.length);
          expect({ label, equal: Buffer.from(output).equals(Buffer.from(input)) }).toEqual({
            label,
            equal: true,
          });
        }
      });
    }

    for (const codec of COMPRESSED_CODECS) {
      test(`${codec} round-trips arbitrary bytes`, () => {
        fc.assert(
          fc.property(fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 0, max: 3 }), (bytes, repeat) => {
            // Repeating the sample gives the match finders something to find.
            const input = new Uint8Array(bytes.length * (repeat + 1));
            for (let i = 0; i <= repeat; i++) input.set(bytes, i * bytes.length);
            const output = backend.decompress(codec, backend.compress(codec, input), input.length);
            return Buffer.from(output).equals(Buffer.from(input));
          }),
          { seed: FAST_CHECK_SEED, numRuns: 150 },
        );
      });

      test(`${codec} rejects empty, truncated and garbage input as CORRUPT_MESSAGE`, () => {
        const compressed = backend.compress(codec, jsonLikeBytes(3, 100_000));
        const garbage = randomBytes(4, 200);
        const headless = compressed.slice(3);
        const truncated = compressed.subarray(0, compressed.length - 9);
        for (const input of [new Uint8Array(0), truncated, headless, garbage]) {
          expect(outcomeOf(() => backend.decompress(codec, input, MIB))).toBe("CORRUPT_MESSAGE");
        }
      });

      test(`${codec} reports MESSAGE_TOO_LARGE when the output would pass maxOutputBytes`, () => {
        const compressed = backend.compress(codec, jsonLikeBytes(5, 300_000));
        expect(outcomeOf(() => backend.decompress(codec, compressed, 299_999))).toBe("MESSAGE_TOO_LARGE");
        expect(outcomeOf(() => backend.decompress(codec, compressed, 0))).toBe("MESSAGE_TOO_LARGE");
        expect(backend.decompress(codec, compressed, 300_000).length).toBe(300_000);
      });

      test(`${codec} stops a 16 MiB bomb at a 1 MiB limit`, () => {
        const bomb = backend.compress(codec, new Uint8Array(16 * MIB));
        expect(bomb.length).toBeLessThan(MIB);
        expect(outcomeOf(() => backend.decompress(codec, bomb, MIB))).toBe("MESSAGE_TOO_LARGE");
      });

      test(`${codec} raises only SluiceErrors on mutated input`, () => {
        const valid = backend.compress(codec, jsonLikeBytes(6, 5000));
        fc.assert(
          fc.property(
            fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
            fc.nat(),
            (flips, cut) => {
              const mutated = valid.slice(0, valid.length - (cut % 4));
              for (const [position, value] of flips) mutated[position % mutated.length] = value;
              const outcome = outcomeOf(() => backend.decompress(codec, mutated, 64 * 1024));
              return ["returned", "CORRUPT_MESSAGE", "MESSAGE_TOO_LARGE"].includes(outcome);
            },
          ),
          { seed: FAST_CHECK_SEED, numRuns: 300 },
        );
      });
    }

    test("none passes bytes through and still enforces the limit", () => {
      const input = encode("plain");
      expect(backend.decompress("none", backend.compress("none", input), 5)).toEqual(input);
      expect(outcomeOf(() => backend.decompress("none", input, 4))).toBe("MESSAGE_TOO_LARGE");
    });
  });
}

test("zstd compression without Bun is UNSUPPORTED_COMPRESSION_TYPE", () => {
  expect(outcomeOf(() => compressPortable("zstd", encode("x")))).toBe("UNSUPPORTED_COMPRESSION_TYPE");
});

// Known answers: bytes written by other implementations, so a framing mistake here fails these tests.
const SHORT_TEXT = "Sluice speaks Kafka: gzip, snappy, lz4, zstd.\n";
const PATTERN_70000 = "abcdefghij".repeat(7000);

describe("known answers from other implementations", () => {
  // GNU gzip 1.12: `gzip -c -n -9`.
  const GZIP_MEMBER =
    "1f8b08000000000002030bce29cd4c4e55282e484dcc2e56f04e4ccb4eb45248afca2cd05128ce4b2c28a8d451c8a932d151a82a2e49d1e30200b88907682e000000";

  test("gzip reads GNU gzip output, including a second member as Kafka's GZIPInputStream does", () => {
    for (const read of [decompress, decompressPortable]) {
      expect(decode(read("gzip", fromHex(GZIP_MEMBER), MIB))).toBe(SHORT_TEXT);
      const twoMembers = fromHex(GZIP_MEMBER + GZIP_MEMBER);
      expect(decode(read("gzip", twoMembers, MIB))).toBe(SHORT_TEXT + SHORT_TEXT);
    }
  });

  // kafka-python's test_snappy_encode_xerial (libsnappy via python-snappy, 300-byte xerial blocks).
  const KAFKA_PYTHON_XERIAL =
    "82534e41505059000000000100000001" +
    "00000018ac0214534e41505059fe0600fe0600fe0600fe0600960600" +
    "00000018ac021458455249414cfe0600fe0600fe0600fe0600960600";
  // The Snappy format's worked example (Wikipedia), as Google's snappy writes it.
  const WIKIPEDIA_TEXT = "Wikipedia is a free, web-based, collaborative, multilingual encyclopedia project.";
  const WIKIPEDIA_RAW =
    "51f04257696b697065646961206973206120667265652c207765622d62617365642c20636f6c6c61626f7261746976652c206d756c74696c696e6775616c20656e6379636c6f093f1c70726f6a6563742e";

  test("snappy reads xerial-framed blocks from kafka-python's test suite", () => {
    expect(decode(decompress("snappy", fromHex(KAFKA_PYTHON_XERIAL), MIB))).toBe(
      "SNAPPY".repeat(50) + "XERIAL".repeat(50),
    );
  });

  test("snappy reads a raw block without framing, as librdkafka may send", () => {
    expect(decode(decompress("snappy", fromHex(WIKIPEDIA_RAW), MIB))).toBe(WIKIPEDIA_TEXT);
    const chunk = fromHex(KAFKA_PYTHON_XERIAL).subarray(20, 44);
    expect(decode(decompress("snappy", chunk, MIB))).toBe("SNAPPY".repeat(50));
  });

  test("snappy reads concatenated xerial streams, as snappy-java does", () => {
    const stream = fromHex(KAFKA_PYTHON_XERIAL);
    const twice = new Uint8Array(stream.length * 2);
    twice.set(stream, 0);
    twice.set(stream, stream.length);
    expect(decompress("snappy", twice, MIB).length).toBe(1200);
  });

  test("snappy rejects a block whose elements fall short of its declared length", () => {
    const raw = fromHex(WIKIPEDIA_RAW);
    raw[0] = raw[0]! + 1; // declares one byte more than the elements produce
    expect(outcomeOf(() => decompress("snappy", raw, MIB))).toBe("CORRUPT_MESSAGE");
  });

  // liblz4 1.9.4 CLI: `lz4 -B4 --no-frame-crc` (the frame Kafka writes), `lz4` (4 MiB blocks, content
  // checksum, one stored block), and `lz4 -B4 -BX --content-size` (two 64 KiB blocks, every checksum).
  const LZ4_KAFKA_SHAPED = "04224d18604082180000006e6b61666b612006006d736c75696365070050756963650a00000000";
  const LZ4_DEFAULT =
    "04224d186440a72e000080536c7569636520737065616b73204b61666b613a20677a69702c20736e617070792c206c7a342c207a7374642e0a00000000f4af1509";
  const LZ4_CHECKSUMMED_BLOCKS =
    "BCJNGHxAcBEBAAAAAADKFAEAAK9hYmNkZWZnaGlqCgD///////////////////////////////////////////////////////////////////" +
    "//////////////////////////////////////////////////////////////////////////////////////////////////////////////" +
    "//////////////////////////////////////////////////////////////////////////////////////////////////////////////" +
    "//////////////////////////////////////////////////////3lBiY2RlZn81fc8lAAAAr2doaWphYmNkZWYKAP//////////////////" +
    "////X1BmZ2hpagmzr3cAAAAASEJRIw==";

  test("lz4 reads frames from liblz4 with and without block, content and size fields", () => {
    for (const read of [decompress, decompressPortable]) {
      expect(decode(read("lz4", fromHex(LZ4_KAFKA_SHAPED), MIB))).toBe(
        "kafka kafka kafka kafka sluice sluice sluice sluice\n",
      );
      expect(decode(read("lz4", fromHex(LZ4_DEFAULT), MIB))).toBe(SHORT_TEXT);
      expect(decode(read("lz4", fromBase64(LZ4_CHECKSUMMED_BLOCKS), MIB))).toBe(PATTERN_70000);
    }
  });

  test("lz4 checks the block checksum, content checksum and content size", () => {
    const frame = fromBase64(LZ4_CHECKSUMMED_BLOCKS);
    const corruptions = [
      [frame.length - 1, 0x24], // content checksum
      [frame.length - 9, 0x78], // the second block's checksum
      [6, 0x71], // content size, with the header checksum fixed below
    ] as const;
    for (const [position, value] of corruptions) {
      const mutated = frame.slice();
      mutated[position] = value;
      if (position === 6) mutated[14] = 0xcd; // the header checksum for a content size of 70001
      expect(outcomeOf(() => decompress("lz4", mutated, MIB))).toBe("CORRUPT_MESSAGE");
    }
  });

  test("lz4 writes Kafka's frame header and 64 KiB independent blocks", () => {
    const frame = compress("lz4", encode("kafka kafka kafka kafka sluice sluice sluice sluice\n"));
    // Magic, FLG 0x60 (version 1, independent blocks), BD 0x40 (64 KiB), HC 0x82: what Kafka's producer writes.
    expect(Buffer.from(frame.subarray(0, 7)).toString("hex")).toBe("04224d18604082");
    expect(Buffer.from(frame.subarray(-4)).toString("hex")).toBe("00000000");
    expect(Buffer.from(compress("lz4", new Uint8Array(0))).toString("hex")).toBe("04224d1860408200000000");
    const blockSizes = lz4BlockSizes(compress("lz4", randomBytes(7, 200_000)));
    expect(blockSizes).toEqual([65536, 65536, 65536, 3392].map((size) => (0x80000000 | size) >>> 0));
  });

  test("lz4 keeps every block's last match 12 bytes clear of its end, as liblz4 requires", () => {
    // A repeat 10 bytes before the end tempts a greedy matcher (lz4js takes it; liblz4 then rejects the block).
    const input = jsonLikeBytes(8, 65536);
    input.set(input.subarray(65536 - 40, 65536 - 36), 65536 - 10);
    const frame = compress("lz4", input);
    const firstBlock = frame.subarray(7 + 4, 7 + 4 + (lz4BlockSizes(frame)[0]! & 0x7fffffff));
    expect(lz4LastMatchStart(firstBlock)).toBeLessThanOrEqual(65536 - 12);
    expect(decompress("lz4", frame, MIB)).toEqual(input);
  });

  test("lz4 rejects dependent blocks, the old header checksum and trailing bytes, as Kafka or librdkafka do", () => {
    // lz4js's own frame for "1" (FLG 0x40: blocks not independent), from RedisInsight's test constants.
    const dependent = Uint8Array.of(4, 34, 77, 24, 64, 112, 223, 1, 0, 0, 128, 49, 0, 0, 0, 0);
    const oldChecksum = fromHex(LZ4_KAFKA_SHAPED);
    oldChecksum[6] = 0x00; // pre-KIP-57 Kafka hashed the magic too; magic 2 batches never do
    const trailing = fromHex(`${LZ4_KAFKA_SHAPED}00`);
    for (const frame of [dependent, oldChecksum, trailing]) {
      expect(outcomeOf(() => decompress("lz4", frame, MIB))).toBe("CORRUPT_MESSAGE");
    }
  });

  // zstd 1.5.4 CLI: `zstd -3 -c file` (content size and checksum in the frame) and `... | zstd -3 -c`
  // (streamed, no content size, as Kafka's and librdkafka's producers write); "1" from RedisInsight's tests.
  const ZSTD_WITH_SIZE =
    "28b52ffd242e710100536c7569636520737065616b73204b61666b613a20677a69702c20736e617070792c206c7a342c207a7374642e0a98b49080";
  const ZSTD_STREAMED = "28b52ffd0458950000506162636465666768696a01006311cd0b12df9b9841";

  test("zstd reads frames from the zstd CLI with and without a content size", () => {
    for (const read of [decompress, decompressPortable]) {
      expect(decode(read("zstd", fromHex(ZSTD_WITH_SIZE), MIB))).toBe(SHORT_TEXT);
      expect(decode(read("zstd", fromHex(ZSTD_STREAMED), MIB))).toBe(PATTERN_70000);
      expect(decode(read("zstd", Uint8Array.of(40, 181, 47, 253, 32, 1, 9, 0, 0, 49), MIB))).toBe("1");
      expect(outcomeOf(() => read("zstd", fromHex(ZSTD_STREAMED), 69_999))).toBe("MESSAGE_TOO_LARGE");
    }
  });

  test("zstd reads concatenated frames and skips skippable ones, as libzstd does", () => {
    const skippable = "502a4d1803000000abcdef";
    const frames = fromHex(ZSTD_WITH_SIZE + skippable + ZSTD_STREAMED);
    for (const read of [decompress, decompressPortable]) {
      expect(decode(read("zstd", frames, MIB))).toBe(SHORT_TEXT + PATTERN_70000);
    }
  });

  test("zstd rejects a frame cut at a block boundary, which Bun's streaming decoder would pass as empty", () => {
    const cut = fromHex(ZSTD_STREAMED).subarray(0, 6);
    for (const read of [decompress, decompressPortable]) {
      expect(outcomeOf(() => read("zstd", cut, MIB))).toBe("CORRUPT_MESSAGE");
    }
  });
});

describe("snappy framing", () => {
  test("snappy writes snappy-java's header and 32 KiB chunks", () => {
    const framed = compress("snappy", randomBytes(9, 100_000));
    expect(Buffer.from(framed.subarray(0, 16)).toString("hex")).toBe("82534e41505059000000000100000001");
    const chunkLengths: number[] = [];
    const view = new DataView(framed.buffer, framed.byteOffset, framed.length);
    for (let offset = 16; offset < framed.length; offset += 4 + chunkLengths.at(-1)!) {
      chunkLengths.push(view.getInt32(offset));
    }
    expect(chunkLengths.length).toBe(4); // 3 x 32 KiB + 1696 bytes
    const lastChunk = framed.subarray(framed.length - chunkLengths.at(-1)!);
    expect(decompress("snappy", lastChunk, MIB).length).toBe(100_000 - 3 * 32 * 1024);
  });

  test("snappy decompress accepts both raw blocks and xerial framing", () => {
    const input = jsonLikeBytes(10, 80_000);
    const framed = compress("snappy", input);
    expect(decompress("snappy", framed, MIB)).toEqual(input);
    const smallFramed = compress("snappy", encode("raw"));
    expect(decode(decompress("snappy", smallFramed.subarray(20), MIB))).toBe("raw");
  });
});

/** The size words of an LZ4 frame with a 7-byte header and no checksums. */
function lz4BlockSizes(frame: Uint8Array): number[] {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.length);
  const sizes: number[] = [];
  for (let offset = 7; ; ) {
    const word = view.getUint32(offset, true);
    if (word === 0) return sizes;
    sizes.push(word);
    offset += 4 + (word & 0x7fffffff);
  }
}

/** Where, in decompressed bytes, the last match of an LZ4 block starts. */
function lz4LastMatchStart(block: Uint8Array): number {
  let i = 0;
  let output = 0;
  let lastMatchStart = -1;
  const readLength = (length: number) => {
    let total = length;
    if (length === 15) {
      let byte: number;
      do {
        byte = block[i++]!;
        total += byte;
      } while (byte === 255);
    }
    return total;
  };
  for (;;) {
    const token = block[i++]!;
    const literals = readLength(token >>> 4);
    i += literals;
    output += literals;
    if (i >= block.length) return lastMatchStart;
    i += 2;
    lastMatchStart = output;
    output += readLength(token & 15) + 4;
  }
}
