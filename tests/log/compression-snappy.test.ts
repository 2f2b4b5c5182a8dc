// Snappy: known answers from kafka-python and Google's snappy, and the snappy-java framing Kafka's producer writes.
import { describe, expect, test } from "bun:test";
import { compress, decompress } from "../../lib/log/compression.ts";
import {
  decode,
  encode,
  fromHex,
  jsonLikeBytes,
  MIB,
  outcomeOf,
  randomBytes,
} from "./compression-helpers.ts";

describe("known answers from other implementations", () => {
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
