export { createRedisStore, type RedisStore, type RedisStoreOptions } from './store.js';
export type { DecisionStore, StoreKey, StoreRead, StoreStamp, StoreStats, StoredValue } from '../src/index.js';
