// Any node answers any request: a request about one partition (fetch, raw produce, offsets) that
// reaches a node which does not lead it is passed to the leader and the leader's answer streamed
// back, so clients (browsers included) need to know only one node. A forwarded request is marked
// and never forwarded again: a node that got one without leading answers NOT_LEADER_OR_FOLLOWER,
// which clients retry once the new leader is known.
import type { Context, MiddlewareHandler } from "hono";
import { SluiceError } from "../errors.ts";
import type { ClusterNode } from "./cluster-node.ts";
import type { NodeRecord } from "./metadata.ts";
import { ON_BEHALF_HEADER, onBehalfValue, peerHeaders } from "./peer-auth.ts";
import { FORWARDED_HEADER } from "./replicated-append.ts";

const PARTITION_PATH = /\/topics\/([^/]+)\/partitions\/(\d+)\//;

/** Headers that describe one hop, not the request. */
const HOP_HEADERS = ["host", "connection", "keep-alive", "transfer-encoding", "content-length"];

export function forwardToLeader(cluster: ClusterNode): MiddlewareHandler {
  return async (c, next) => {
    const match = PARTITION_PATH.exec(c.req.path);
    if (match === null) return next();
    const topic = decodeURIComponent(match[1]!);
    const partition = Number(match[2]);
    if (!cluster.manages(topic)) return next();
    const leader = cluster.leaderOf(topic, partition);
    if (leader.kind === "self") return next();
    if (c.req.header(FORWARDED_HEADER) !== undefined) {
      throw new SluiceError(
        "NOT_LEADER_OR_FOLLOWER",
        `node ${cluster.nodeId} does not lead ${topic}-${partition}; retry`,
      );
    }
    if (leader.kind === "none") {
      throw new SluiceError(
        "LEADER_NOT_AVAILABLE",
        `partition ${topic}-${partition} has no leader now; retry shortly`,
      );
    }
    return proxyTo(c, leader.node, cluster, (error) => {
      return new SluiceError(
        "LEADER_NOT_AVAILABLE",
        `the leader of ${topic}-${partition} (node ${leader.node.id}) cannot be reached: ${String(error)}`,
        { cause: error },
      );
    });
  };
}

/**
 * Sends the request on to `node`, marked as forwarded and carrying the cluster's token, and streams
 * its answer back (x-sluice-served-by names the node); `unreachable` says what to answer when the
 * node cannot be reached.
 */
export async function proxyTo(
  c: Context,
  node: NodeRecord,
  cluster: ClusterNode,
  unreachable: (error: unknown) => SluiceError,
): Promise<Response> {
  const url = new URL(c.req.url);
  const headers = new Headers(c.req.raw.headers);
  for (const name of HOP_HEADERS) headers.delete(name);
  headers.set(FORWARDED_HEADER, String(cluster.nodeId));
  // The other node may not know the client's token (API tokens are each node's own), so the request
  // goes on as the cluster, naming the client's grants for the checks only that node can make.
  const interNodeToken = cluster.options.interNodeToken;
  for (const [name, value] of Object.entries(peerHeaders(interNodeToken))) headers.set(name, value);
  headers.delete(ON_BEHALF_HEADER);
  const principal = c.get("principal");
  if (interNodeToken !== undefined && principal !== undefined)
    headers.set(ON_BEHALF_HEADER, onBehalfValue(principal));
  const hasBody = c.req.method !== "GET" && c.req.method !== "HEAD";
  let response: Response;
  try {
    response = await fetch(`${node.url}${url.pathname}${url.search}`, {
      method: c.req.method,
      headers,
      body: hasBody ? await c.req.arrayBuffer() : null,
      signal: c.req.raw.signal,
    });
  } catch (error) {
    throw unreachable(error);
  }
  const answer = new Headers(response.headers);
  for (const name of HOP_HEADERS) answer.delete(name);
  answer.delete("content-encoding"); // fetch already decoded the body
  answer.set("x-sluice-served-by", String(node.id));
  return new Response(response.body, { status: response.status, headers: answer });
}
