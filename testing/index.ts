export { createTestKit } from './kit.js';
export type { TestKit, TestKitOptions } from './kit.js';
export type { TestKitSeed, SeedResourceRef } from './seed.js';
export { SeedError } from './seed.js';
export type { MintTokenOptions } from './tokens.js';
export type { Fault } from './faults.js';
export { ENDPOINT_NAMES, type EndpointName } from './endpoints.js';
export type { MembershipStatus } from './model.js';
export { demoSeed } from './demo-seed.js';
