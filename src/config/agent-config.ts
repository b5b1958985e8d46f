// Agent configuration: flat on purpose this round (every module reads its fields by these names).
// Filled by src/config/agent-load.ts from flags > VXMESH_* variables > --config file > DEFAULT_CONFIG;
// src/config/agent-options.ts has one row per field (its flag, variable, file key, checks and help).

import { DEFAULT_INGRESS_SUBNET } from '../ingress/model.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export interface AgentConfig {
  dataDir: string; // --data-dir, VXMESH_DATA_DIR, default /var/lib/vxmesh
  socket: string; // --socket, VXMESH_SOCKET, default /run/vxmesh/vxmesh.sock
  /** --advertise-addr, VXMESH_ADVERTISE_ADDR; undefined = address of the default route's interface. */
  advertiseAddr?: string;
  netnsPrefix: string; // --netns-prefix, VXMESH_NETNS_PREFIX, default "vx"
  logLevel: LogLevel; // --log-level, VXMESH_LOG_LEVEL, default info
  defaultAddrPool: string[]; // --default-addr-pool (repeatable / comma list), default ["10.0.0.0/8"]
  defaultAddrPoolSize: number; // --default-addr-pool-size, default 24
  defaultAddrPoolV6: string[]; // --default-addr-pool-v6, default ["fd76:786d::/32"]
  defaultAddrPoolSizeV6: number; // --default-addr-pool-size-v6, default 64
  gwBridgePool: string; // --gwbridge-subnet, default 172.18.0.0/16
  dataPathPort: number; // --data-path-port, default 4789
  /** Underlay MTU; overlay MTU = this - 50. --underlay-mtu, default: MTU of the advertise interface, else 1500. */
  underlayMtu?: number;
  // Gossip (issue 3)
  join: string[]; // --join IP[:PORT][,...]
  gossipPort: number; // --gossip-port, default 7946
  gossipKeyFile?: string; // --gossip-key-file
  nodeName?: string; // --node-name, default hostname-derived / random
  // Docker plugin (issue 4)
  pluginName: string; // --plugin-name, default "vxmesh"
  plugin: boolean; // --no-plugin turns off
  pluginDir: string; // --plugin-dir, default /run/docker/plugins
  /** dockerd's API, where the plugin learns a new network's name. --docker-host, default unix:///var/run/docker.sock */
  dockerHost: string;
  // Reliability and operations
  /** --salvage: start from every store record that verifies, moving a damaged file aside; delete no kernel object it cannot account for. */
  salvage: boolean;
  logFormat: 'json' | 'pretty'; // --log-format, default json
  /** Drift repair period. --resync-interval SECONDS, default 30. */
  resyncIntervalMs: number;
  /** Gossip timing profile: 'default' (probe 400 ms, dead in under 3 s) or 'fast' (probe 200 ms, gossip 50 ms, for tests on one machine). --gossip-profile */
  gossipProfile: 'default' | 'fast';
  /** --metrics-addr HOST:PORT: serve Prometheus metrics at /metrics there; undefined = off. */
  metricsAddr?: string;
  // Embedded DNS (issue 11)
  /** Upstream resolvers for names vxmesh does not own. --dns IP[:PORT][,...]; default: the host's /etc/resolv.conf. */
  dns: string[];
  /** Serve 127.0.0.11 in workload namespaces. --no-embedded-dns turns it off. */
  embeddedDns: boolean;
  // Shared cluster state (issue 9)
  /** --store etcd://HOST:2379[,...]; undefined = the embedded file store in the data dir (single host). */
  store?: string;
  storePrefix: string; // --store-prefix, default /vxmesh/
  storeCa?: string; // --store-ca PATH (turns TLS on)
  storeCert?: string; // --store-cert PATH (client certificate, with --store-key)
  storeKey?: string; // --store-key PATH
  // Services (issue 10)
  /** Service load balancer: auto (ipvs where the kernel has ip_vs, else nftables), ipvs or nftables. --lb */
  lb: 'auto' | 'ipvs' | 'nftables';
  /** Subnet of the `ingress` network the routing mesh makes when a port is first published. --ingress-subnet */
  ingressSubnet: string;
  /** RPS on the sandboxes' veth ends, spreading a flow's forwarding over the CPUs (bench/RESULTS.md, throughput). --no-rps turns it off. */
  rps: boolean;
}

export const DEFAULT_CONFIG: AgentConfig = {
  dataDir: '/var/lib/vxmesh',
  socket: '/run/vxmesh/vxmesh.sock',
  netnsPrefix: 'vx',
  logLevel: 'info',
  defaultAddrPool: ['10.0.0.0/8'],
  defaultAddrPoolSize: 24,
  defaultAddrPoolV6: ['fd76:786d::/32'],
  defaultAddrPoolSizeV6: 64,
  gwBridgePool: '172.18.0.0/16',
  dataPathPort: 4789,
  join: [],
  gossipPort: 7946,
  pluginName: 'vxmesh',
  plugin: true,
  pluginDir: '/run/docker/plugins',
  dockerHost: 'unix:///var/run/docker.sock',
  salvage: false,
  logFormat: 'json',
  resyncIntervalMs: 30_000,
  gossipProfile: 'default',
  dns: [],
  embeddedDns: true,
  rps: true,
  storePrefix: '/vxmesh/',
  lb: 'auto',
  ingressSubnet: DEFAULT_INGRESS_SUBNET,
};
