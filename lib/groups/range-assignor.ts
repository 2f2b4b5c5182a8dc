// Kafka's RangeAssignor: topic by topic, the subscribed members (by id) take consecutive ranges of the
// partitions, the first `partitions % members` of them one more. Members subscribed to the same topics
// get the same partition numbers of each, which suits joining co-partitioned topics.
import { assignorOf } from "./partition-assignor.ts";

export const rangeAssignor = assignorOf("range", ({ members, topics, pick, partitionCount }) => {
  for (const topic of topics) {
    const consumers = members.filter((member) => member.topics.includes(topic));
    const partitions = partitionCount(topic);
    const perMember = Math.floor(partitions / consumers.length);
    const extra = partitions % consumers.length;
    for (const [i, member] of consumers.entries()) {
      const start = perMember * i + Math.min(i, extra);
      const length = perMember + (i < extra ? 1 : 0);
      for (let partition = start; partition < start + length; partition++)
        pick(member.memberId, { topic, partition });
    }
  }
});
