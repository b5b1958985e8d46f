// Moved to test/support/etcd-server.ts (the multi-host tests run etcd in a namespace too).
export { ETCD_BIN, EtcdServer } from '../support/etcd-server.js';
