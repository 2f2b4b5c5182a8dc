// How one node authenticates to another when access control is on: with the shared authAdminToken,
// the inter-node token. Tokens made through the API live in each node's own tokens.json, so a
// client's token may be unknown to the peer; a forwarded request was already checked by the node
// that forwards it, and goes on as the cluster itself.
export function peerHeaders(interNodeToken: string | undefined): Record<string, string> {
  return interNodeToken === undefined ? {} : { authorization: `Bearer ${interNodeToken}` };
}
