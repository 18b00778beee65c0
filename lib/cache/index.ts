/** Caching with a time to live: one interface, in process or in Redis. */
export { MemoryCache, type Cache } from './cache';
export { RedisCache, type RedisCacheOptions } from './redisCache';
