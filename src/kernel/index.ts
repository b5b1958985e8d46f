// The kernel layer's public surface. Process execution stays private to src/kernel: callers say
// what should exist (typed specs, nft tables) and the reconcilers read, diff and apply.
export { KernelError } from './exec.js';
export * from './ns.js';
export * from './state.js';
export * from './plan.js';
export * from './read.js';
export * from './reconciler.js';
export * from './netns.js';
export * from './nft.js';
export * from './nft-model.js';
export { readNftTable, parseNftTable, ruleCounters } from './nft-read.js';
export { planNftTable, validateNftTable, type NftPlan, type NftPlanSummary } from './nft-plan.js';
export * from './nft-reconciler.js';
export { NftSessionLost, NftSessions, sessionLine, type NftSessionOptions } from './nft-session.js';
export * from './sysctl.js';
export { FLOW_HASH_PROG, cpuListMask, hasSymmetricFlowHash, maskValue, onlineCpuMask, setRpsCpus, setSymmetricFlowHash, setSymmetricFlowHashTcx } from './rx-steering.js';
export { forgetFlowsTo } from './conntrack.js';
export * from './probe.js';
export * from './host-info.js';
export { NftElements } from './nft-elements.js';
export * from './native.js';
export * from './observer.js';
export { ipvsAvailable, readIpvs, readIpvsConns, IpvsReconciler, ensureMarkRouting, removeMarkRouting } from './ipvs.js';
export type { IpvsReconcileOptions, IpvsReconcileResult, MarkRouting } from './ipvs.js';
export { parseIpvsSave, parseIpvsConns, planIpvs, planIpvsClear, fwmarkKey, destKey } from './ipvs-model.js';
export type { IpvsService, IpvsDest, IpvsFwmarkSpec, IpvsDestConns, IpvsPlan, IpvsPlanInput } from './ipvs-model.js';
