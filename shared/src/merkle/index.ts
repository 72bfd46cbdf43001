export {
  MERKLE_LOG_ERROR_CODES,
  MerkleLogError,
  PROOF_ERROR_CODES,
  ProofError,
  type MerkleLogErrorCode,
  type ProofErrorCode,
} from './errors.js';
export { EMPTY_ROOT, MERKLE_HASH_SIZE, leafHash, nodeHash } from './hash.js';
export { verifyConsistency, verifyInclusion, rootFromInclusionProof } from './verify.js';
export {
  assembleProof,
  planConsistency,
  planInclusion,
  planRoot,
  rangeNodes,
  type NodeId,
  type ProofPlan,
} from './plan.js';
export { MemoryNodeStore, type NodeReader, type NodeStore } from './store.js';
export { MerkleLog, consistencyProofFrom, inclusionProofFrom, rootFrom } from './log.js';
