// Kafka's RoundRobinAssignor: every subscribed partition, by topic then number, dealt to the members (by
// id) in turn, skipping a member not subscribed to the partition's topic. Spreads partitions more evenly
// than range when members share many topics with few partitions each.
import { assignorOf } from "./partition-assignor.ts";

export const roundRobinAssignor = assignorOf("roundrobin", ({ members, topics, pick, partitionCount }) => {
  let next = 0;
  for (const topic of topics) {
    for (let partition = 0; partition < partitionCount(topic); partition++) {
      // Some member is subscribed to every topic listed, so this finds one within a lap.
      while (!members[next % members.length]!.topics.includes(topic)) next++;
      pick(members[next % members.length]!.memberId, { topic, partition });
      next++;
    }
  }
});
