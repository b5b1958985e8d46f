// The one set of limits for every input vxmesh accepts: the CLI, the gRPC API and the agent all check
// against these (through src/model/validate.ts), so a value one of them accepts the others accept too.

/** Names of networks, endpoints, aliases and aux addresses: one DNS label (RFC 1035 allows 63 octets). */
export const NAME_MIN = 1;
export const NAME_MAX = 63;
/** Starts with a letter or digit, so a name can never be mistaken for a flag (`-web`). */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * Overlay MTU. 1280 is IPv6's minimum link MTU (RFC 8200 §5): below it the kernel removes IPv6 from
 * the interface, so an IPv6 overlay (and the default IPv6 pool) would silently stop working. 9000 is
 * the common jumbo-frame size; an overlay above it needs an underlay above 9050, which few networks carry.
 */
export const MTU_MIN = 1280;
export const MTU_MAX = 9000;
/** Outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) headers: overlay MTU = underlay MTU - 50. */
export const VXLAN_OVERHEAD = 50;
/** The underlay must leave room for a minimum overlay; the top is what a Linux link accepts. */
export const UNDERLAY_MTU_MIN = MTU_MIN + VXLAN_OVERHEAD;
export const UNDERLAY_MTU_MAX = 65535;

/** Labels travel in every store record and gossip message of their object: keep them small. */
export const LABELS_MAX = 64;
export const LABEL_KEY_MAX = 128;
export const LABEL_VALUE_MAX = 1024;

export const ALIASES_MAX = 64;
export const AUX_ADDRESSES_MAX = 256;

/** Longest network namespace path (PATH_MAX). */
export const PATH_MAX = 4096;
/** Longest IP or CIDR text (an IPv6 address with an embedded IPv4 tail and a prefix is 49). */
export const ADDRESS_TEXT_MAX = 64;
/** Longest object id or id prefix (ids are 64 hex characters). */
export const ID_MAX = 128;
/** Gossip node names: memberlist allows any string; 128 keeps them printable in one table column. */
export const NODE_NAME_MAX = 128;
/** Prefix of every namespace and link vxmesh creates; short because Linux link names are 15 bytes. */
export const NETNS_PREFIX_PATTERN = /^[a-z0-9]{1,6}$/;

/** AES-128, AES-192 and AES-256: the key sizes memberlist's keyring accepts. */
export const GOSSIP_KEY_SIZES: readonly number[] = [16, 24, 32];
/** A 32-byte key is 44 base64 characters; allow more so a wrong size is reported as a size. */
export const GOSSIP_KEY_TEXT_MAX = 256;

export const PORT_MIN = 1;
export const PORT_MAX = 65535;
