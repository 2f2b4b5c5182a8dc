// Keys and values between JSON and bytes: each format one way and back, auto's choices, and the
// errors that name the field.
import { describe, expect, test } from "bun:test";
import { isSluiceError } from "../../lib/errors.ts";
import { encodePayload, renderPayload } from "../../lib/gateway/payload-format.ts";
import { utf8 } from "../../lib/log/record-batch.ts";
import { thrownBy } from "../log/helpers.ts";

const describeValue = () => ({ what: "the value at offset 3", field: "value_format" });

function fieldOf(error: unknown): string | undefined {
  return isSluiceError(error) ? error.field : undefined;
}

describe("encodePayload", () => {
  test("json stores the value's JSON text, text its UTF-8, base64 the decoded bytes", () => {
    expect(encodePayload({ a: [1, "é"] }, "json", "v")).toEqual(utf8('{"a":[1,"é"]}'));
    expect(encodePayload("é", "text", "v")).toEqual(new Uint8Array([0xc3, 0xa9]));
    expect(encodePayload("AP8=", "base64", "v")).toEqual(new Uint8Array([0, 255]));
  });

  test("null and a missing key are Kafka's null in every format", () => {
    for (const format of ["json", "text", "base64"] as const) {
      expect(encodePayload(null, format, "v")).toBeNull();
      expect(encodePayload(undefined, format, "v")).toBeNull();
    }
  });

  test("bad input names its field", () => {
    expect(fieldOf(thrownBy(() => encodePayload("a b c !", "base64", "records[2].value")))).toBe(
      "records[2].value",
    );
    expect(fieldOf(thrownBy(() => encodePayload(5, "text", "records[0].key")))).toBe("records[0].key");
    expect(fieldOf(thrownBy(() => encodePayload("\ud800", "text", "records[1].value")))).toBe(
      "records[1].value",
    );
  });
});

describe("renderPayload", () => {
  test("each fixed format gives back what its encoding stored", () => {
    expect(renderPayload(utf8('{"a":1}'), "json", describeValue)).toEqual({
      value: { a: 1 },
      format: "json",
    });
    expect(renderPayload(utf8("é"), "text", describeValue)).toEqual({ value: "é", format: "text" });
    expect(renderPayload(new Uint8Array([0, 255]), "base64", describeValue)).toEqual({
      value: "AP8=",
      format: "base64",
    });
    expect(renderPayload(null, "text", describeValue)).toEqual({ value: null });
  });

  test("auto is lossless: JSON only when re-serializing gives the same bytes", () => {
    expect(renderPayload(utf8("[1,2]"), "auto", describeValue)).toEqual({ value: [1, 2], format: "json" });
    expect(renderPayload(utf8("[1, 2]"), "auto", describeValue)).toEqual({ value: "[1, 2]", format: "text" });
    expect(renderPayload(utf8("1.0"), "auto", describeValue)).toEqual({ value: "1.0", format: "text" });
    expect(renderPayload(new Uint8Array([0xc3]), "auto", describeValue)).toEqual({
      value: "ww==",
      format: "base64",
    });
  });

  test("bytes that do not fit a fixed format are refused, naming the query field", () => {
    expect(fieldOf(thrownBy(() => renderPayload(new Uint8Array([0xff]), "text", describeValue)))).toBe(
      "value_format",
    );
    expect(fieldOf(thrownBy(() => renderPayload(utf8("{"), "json", describeValue)))).toBe("value_format");
  });
});
