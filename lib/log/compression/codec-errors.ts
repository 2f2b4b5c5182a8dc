// The two errors every decoder raises: CORRUPT_MESSAGE for bad input, MESSAGE_TOO_LARGE past the limit.
import { SluiceError } from "../../errors.ts";
import type { CodecName } from "../compression.ts";

export function corrupt(codec: CodecName, detail: string, cause?: unknown): SluiceError {
  return new SluiceError("CORRUPT_MESSAGE", `malformed ${codec} data: ${detail}`, { cause });
}

export function tooLarge(codec: CodecName, maxOutputBytes: number): SluiceError {
  return new SluiceError("MESSAGE_TOO_LARGE", `${codec} data inflates past ${maxOutputBytes} bytes`);
}
