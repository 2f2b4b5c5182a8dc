// The assignors a group may choose, by Kafka's protocol names; the group's members all name the same one.
import type { PartitionAssignor } from "./partition-assignor.ts";
import { rangeAssignor } from "./range-assignor.ts";
import { roundRobinAssignor } from "./round-robin-assignor.ts";

export const ASSIGNOR_NAMES = ["range", "roundrobin"] as const;
export type AssignorName = (typeof ASSIGNOR_NAMES)[number];

/** Kafka's consumer lists RangeAssignor first in partition.assignment.strategy. */
export const ASSIGNOR_DEFAULT: AssignorName = "range";

const ASSIGNORS: Record<AssignorName, PartitionAssignor> = {
  range: rangeAssignor,
  roundrobin: roundRobinAssignor,
};

export function assignorFor(name: AssignorName): PartitionAssignor {
  return ASSIGNORS[name];
}
