// The embedded resolver's public surface: what the dns controller (and tests, benches) use.
export { DnsServer, type DnsServerOptions, type DnsServerStats, type Served } from './server/dns-server.js';
export { Forwarder, type ForwarderOptions, type ForwarderStats } from './forward/forwarder.js';
export { parseResolvConf, parseUpstream, readResolvConf, type Upstream } from './forward/upstreams.js';
export { RecordStore, type DnsView, type RecordStoreOptions } from './records/record-store.js';
export {
  DEFAULT_TTLS, type DnsTtls, type EndpointRecord, type ServicePort, type ServiceRecord, type ServiceTask, type ServiceVip,
} from './records/types.js';
export { policyHandler, recordsHandler, forwardHandler, runChain, type DnsRequest, type Handler } from './handler.js';
export { EMBEDDED_RESOLVER, resolvConfText, writeResolvConf } from './resolv-conf.js';
export { QueryParser, type Query, type ParsedQuery } from './wire/query.js';
export { serveInNetns, type NetnsListenOptions } from './netns-listener.js';
export { NamespaceResolvers, type Listen } from './namespace-resolvers.js';
export { createDnsUdpSocket } from './server/udp-socket.js';
export { DnsController, type DnsControllerOptions, type DnsControllerStats } from './dns-controller.js';
export { dnsRecordOf, localByNode, servedNamespaces, type IsLocal } from './endpoint-names.js';
