export * from './types.js';
export { FileStore } from './file-store.js';
