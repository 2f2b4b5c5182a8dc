// A group's coordinator on another node, reached over its HTTP group API: what a WebSocket member's
// frames become when the socket is on a node that does not coordinate the group (the socket stays
// where it connected, as issue 6 wants; this node acts for the member). Requests are marked as
// forwarded, so the coordinator answers them itself (NOT_COORDINATOR once it no longer is).
import { SluiceError } from "../errors.ts";
import type { CommittedOffset } from "../groups/committed-offsets.ts";
import type { CommitInput, JoinInput, JoinResult } from "../groups/group-coordinator.ts";
import type { ClusterNode } from "./cluster-node.ts";
import type { ClusterGroupCoordination } from "./group-coordination.ts";
import { peerHeaders } from "./peer-auth.ts";
import { FORWARDED_HEADER, remoteError } from "./replicated-append.ts";

/** How long a request other than a join (a long poll bounded by its rebalance timeout) may take. */
const REQUEST_TIMEOUT_MS = 10_000;

/** What ws-group-members.ts needs of a coordinator elsewhere. */
export interface RemoteGroups {
  /** Whether this node coordinates the group itself (then frames go to the local coordinator). */
  isLocal(groupId: string): boolean;
  join(groupId: string, input: Omit<JoinInput, "onMemberId">): Promise<JoinResult>;
  heartbeat(groupId: string, memberId: string, generationId: number): Promise<void>;
  leave(groupId: string, memberId: string): Promise<void>;
  commit(groupId: string, input: CommitInput): Promise<CommittedOffset[]>;
  committedOffsets(groupId: string): Promise<CommittedOffset[]>;
}

export class RemoteGroupCoordinator implements RemoteGroups {
  constructor(
    readonly cluster: ClusterNode,
    readonly coordination: ClusterGroupCoordination,
    readonly coordinates: (groupId: string) => boolean,
  ) {}

  isLocal(groupId: string): boolean {
    return this.coordinates(groupId);
  }

  async join(groupId: string, input: Omit<JoinInput, "onMemberId">): Promise<JoinResult> {
    // The join waits for the rebalance: no timeout of its own beyond what the coordinator bounds.
    return (await this.#call(groupId, "POST", "/members", input, null)) as JoinResult;
  }

  async heartbeat(groupId: string, memberId: string, generationId: number): Promise<void> {
    await this.#call(groupId, "POST", `/members/${encodeURIComponent(memberId)}/heartbeat`, { generationId });
  }

  async leave(groupId: string, memberId: string): Promise<void> {
    await this.#call(groupId, "DELETE", `/members/${encodeURIComponent(memberId)}`);
  }

  async commit(groupId: string, input: CommitInput): Promise<CommittedOffset[]> {
    return ((await this.#call(groupId, "POST", "/offsets", input)) as { offsets: CommittedOffset[] }).offsets;
  }

  async committedOffsets(groupId: string): Promise<CommittedOffset[]> {
    return ((await this.#call(groupId, "GET", "/offsets")) as { offsets: CommittedOffset[] }).offsets;
  }

  async #call(
    groupId: string,
    method: string,
    path: string,
    body?: unknown,
    timeoutMs: number | null = REQUEST_TIMEOUT_MS,
  ): Promise<unknown> {
    await this.coordination.ensureOffsetsTopic();
    const coordinator = this.coordination.coordinatorOf(groupId);
    if (coordinator.kind === "none") {
      throw new SluiceError("COORDINATOR_NOT_AVAILABLE", `group "${groupId}" has no coordinator now; retry`);
    }
    // Leadership came here since the frame was routed: ask this node, as any other.
    const node =
      coordinator.kind === "remote"
        ? coordinator.node
        : { id: this.cluster.nodeId, url: this.cluster.options.advertisedUrl };
    let response: Response;
    try {
      response = await fetch(`${node.url}/api/v1/groups/${encodeURIComponent(groupId)}${path}`, {
        method,
        headers: {
          ...peerHeaders(this.cluster.options.interNodeToken),
          [FORWARDED_HEADER]: String(this.cluster.nodeId),
          "content-type": "application/json",
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(timeoutMs === null ? {} : { signal: AbortSignal.timeout(timeoutMs) }),
      });
    } catch (error) {
      throw new SluiceError(
        "COORDINATOR_NOT_AVAILABLE",
        `the coordinator of group "${groupId}" (node ${node.id}) cannot be reached: ${String(error)}`,
        { cause: error },
      );
    }
    if (response.status === 204) return undefined;
    const answer = (await response.json().catch(() => undefined)) as
      | { error?: { name?: string; message?: string; field?: string } }
      | undefined;
    if (response.ok && answer !== undefined) return answer;
    // The coordinator's error as it named it, so the member hears the same from any node.
    throw remoteError(
      answer?.error,
      () =>
        new SluiceError(
          "COORDINATOR_NOT_AVAILABLE",
          `the coordinator (node ${node.id}) answered ${response.status}`,
        ),
    );
  }
}
