//! The DSC keys: their order (the order lookout writes them in, and the
//! index each is stored at) and the lookup from a key to its index.

/// The DSC keys, in the order lookout writes them.
pub(super) const KEYS: [&str; 10] = [
    "trace_id",
    "public_key",
    "sample_rate",
    "sample_rand",
    "sampled",
    "release",
    "environment",
    "transaction",
    "org_id",
    "replay_id",
];

/// The index of a DSC key in [`KEYS`] (a `match` compiles to a length switch).
#[inline]
pub(super) fn key_index(name: &str) -> Option<usize> {
    Some(match name {
        "trace_id" => 0,
        "public_key" => 1,
        "sample_rate" => 2,
        "sample_rand" => 3,
        "sampled" => 4,
        "release" => 5,
        "environment" => 6,
        "transaction" => 7,
        "org_id" => 8,
        "replay_id" => 9,
        _ => return None,
    })
}
