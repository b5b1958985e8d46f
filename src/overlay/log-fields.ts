// Log fields that name an object the way the CLI lists it (`network ls`: NAME and the 12-character
// NETWORK ID; `endpoint ls`: ENDPOINT ID and NAME; `node ls`: NAME), so a log line can be matched
// to what a person sees, and grepped for either.

/** The 12 characters `ls` prints of a 64-hex id. */
function short(id: string): string {
  return id.slice(0, 12);
}

export function networkFields(net: { name: string; id: string }): { network: string; networkId: string } {
  return { network: net.name, networkId: short(net.id) };
}

/** An endpoint, with its network when known (a network id alone when the record is gone). */
export function endpointFields(ep: { name: string; id: string; networkId?: string }, net?: { name: string; id: string }): Record<string, string> {
  return {
    endpoint: ep.name,
    endpointId: short(ep.id),
    ...(net ? networkFields(net) : ep.networkId ? { networkId: short(ep.networkId) } : {}),
  };
}

/** A network known only by id (NetworkDB speaks ids): its name too when the records still have it. */
export function networkIdFields(id: string, lookup: (id: string) => { name: string; id: string } | undefined): { network?: string; networkId: string } {
  const net = lookup(id);
  return net ? networkFields(net) : { networkId: short(id) };
}
