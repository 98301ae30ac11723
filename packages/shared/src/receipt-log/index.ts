/** The receipt log: RFC 6962 Merkle tree hashing and proofs, C2SP checkpoints and signed notes, receipt leaves. */
export {};
