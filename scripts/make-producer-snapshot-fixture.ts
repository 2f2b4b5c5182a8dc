// Writes the committed producer-state snapshot fixture in tests/fixtures/producer-snapshot/v1/, so
// tests/log/producer-state-snapshot.test.ts holds the decoder (and encoder) to bytes laid out from the
// byte table in lib/log/producer-state-snapshot.ts by hand, not by the encoder under test.
//
// A one-off generator, not part of the build or the tests: run it only to add a fixture (a new format
// version gets a new folder; an old version's bytes never change), and commit what it writes.
//
//   node_modules/.bin/bun scripts/make-producer-snapshot-fixture.ts
//
// Files: <name>.snapshot, the bytes; <name>.json, {version, producers: [{producerId, producerEpoch,
// lastTimestamp, batches: [{firstSequence, lastSequence, firstOffset, lastOffset, timestamp}]}]}.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { crc32c } from "../lib/log/crc32c.ts";

const OUT_DIR = join(import.meta.dir, "..", "tests", "fixtures", "producer-snapshot", "v1");
const T0 = 1_700_000_000_000;

const producers = [
  {
    producerId: 7,
    producerEpoch: 0,
    lastTimestamp: T0 + 20,
    batches: [
      { firstSequence: 0, lastSequence: 2, firstOffset: 0, lastOffset: 2, timestamp: T0 },
      { firstSequence: 3, lastSequence: 3, firstOffset: 5, lastOffset: 5, timestamp: T0 + 20 },
    ],
  },
  {
    // Past 2^32, a wrapped sequence and epoch 300: the int64 halves and int16 sign are exercised.
    producerId: 2 ** 40 + 1,
    producerEpoch: 300,
    lastTimestamp: T0 + 10,
    batches: [
      { firstSequence: 2 ** 31 - 2, lastSequence: 1, firstOffset: 3, lastOffset: 4, timestamp: T0 + 10 },
    ],
  },
];

function int64(view: DataView, position: number, value: number): void {
  view.setUint32(position, Math.floor(value / 2 ** 32));
  view.setUint32(position + 4, value % 2 ** 32);
}

const size = 10 + producers.reduce((sum, producer) => sum + 19 + 32 * producer.batches.length, 0);
const bytes = new Uint8Array(size);
const view = new DataView(bytes.buffer);
view.setInt16(0, 1);
view.setInt32(6, producers.length);
let position = 10;
for (const producer of producers) {
  int64(view, position, producer.producerId);
  view.setInt16(position + 8, producer.producerEpoch);
  int64(view, position + 10, producer.lastTimestamp);
  view.setInt8(position + 18, producer.batches.length);
  position += 19;
  for (const batch of producer.batches) {
    view.setInt32(position, batch.firstSequence);
    view.setInt32(position + 4, batch.lastSequence);
    int64(view, position + 8, batch.firstOffset);
    int64(view, position + 16, batch.lastOffset);
    int64(view, position + 24, batch.timestamp);
    position += 32;
  }
}
view.setUint32(2, crc32c(bytes.subarray(6)));

mkdirSync(OUT_DIR, { recursive: true });
writeFileSync(join(OUT_DIR, "two-producers.snapshot"), bytes);
writeFileSync(join(OUT_DIR, "two-producers.json"), `${JSON.stringify({ version: 1, producers }, null, 2)}\n`);
console.log(`wrote ${OUT_DIR}/two-producers.{snapshot,json} (${bytes.length} bytes)`);
