export * from './types.js';
export { FileStore, type FileStoreOptions, type SalvageReport } from './file-store.js';
export { StateCache } from './cache.js';
export { EtcdStore, type EtcdStoreOptions } from './etcd-store.js';
export { parseEtcdStoreUrl } from './store-url.js';
