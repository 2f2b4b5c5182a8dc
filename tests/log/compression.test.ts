// Batch compression codecs: one contract run against Bun's native zlib/zstd and against the pure-JS path
// browsers take, plus GNU gzip's known answer (snappy, lz4 and zstd have their own compression-*.test.ts).
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  CODEC_IDS,
  type CodecName,
  codecFromId,
  compress,
  compressPortable,
  decompress,
  decompressPortable,
} from "../../lib/log/compression.ts";
import {
  COMPRESSED_CODECS,
  decode,
  encode,
  FAST_CHECK_SEED,
  fromHex,
  jsonLikeBytes,
  MIB,
  outcomeOf,
  randomBytes,
  SHORT_TEXT,
} from "./compression-helpers.ts";

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
});
