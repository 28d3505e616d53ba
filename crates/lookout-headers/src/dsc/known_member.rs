//! The fast path of [`DscView::from_baggage`](crate::DscView::from_baggage):
//! recognizing a member that starts with a known `sentry-key=` by comparing
//! whole words, without scanning or trimming.

use super::keys::KEYS;

/// Up to 24 bytes from `at` (the longest known member start,
/// `sentry-environment=`, is 19), zero-padded past the end of the value.
#[inline(always)]
pub(super) fn window(b: &[u8], at: usize) -> [u8; 24] {
    if let Some(w) = b.get(at..).and_then(<[u8]>::first_chunk::<24>) {
        return *w;
    }
    let mut w = [0u8; 24];
    let rest = b.get(at..).unwrap_or_default();
    let n = rest.len().min(24);
    w[..n].copy_from_slice(&rest[..n]);
    w
}

/// A member starting with a known DSC key and its `=` (`sentry-release=`),
/// given the [`window`] at its start: the key's index in [`KEYS`] and the
/// length of `sentry-key=`. Such a key has no whitespace and is a valid
/// token, so the general scanner's trimming and token check are known to
/// pass. Padding cannot match: keys hold no zero byte.
#[inline(always)]
pub(super) fn known_member(window: &[u8; 24]) -> Option<(usize, usize)> {
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&window[i * 8..i * 8 + 8]);
        u64::from_le_bytes(w)
    };
    let words = [word(0), word(1), word(2)];
    let is = |i: usize| {
        let (key, mask) = (&KEY_WORDS[i], &KEY_MASKS[i]);
        (words[0] ^ key[0]) | ((words[1] ^ key[1]) & mask[1]) | ((words[2] ^ key[2]) & mask[2]) == 0
    };
    // Dispatch on the letter after `sentry-`; then at most three candidates.
    let len = |i: usize| "sentry-".len() + KEYS[i].len() + 1;
    Some(match (words[0] >> 56) as u8 {
        b't' if is(0) => (0, len(0)),
        b't' if is(7) => (7, len(7)),
        b'p' if is(1) => (1, len(1)),
        b's' if is(2) => (2, len(2)),
        b's' if is(3) => (3, len(3)),
        b's' if is(4) => (4, len(4)),
        b'r' if is(5) => (5, len(5)),
        b'r' if is(9) => (9, len(9)),
        b'e' if is(6) => (6, len(6)),
        b'o' if is(8) => (8, len(8)),
        _ => return None,
    })
}

/// `sentry-key=` of each of [`KEYS`] as three little-endian words (zero
/// past the `=`), and the masks of its bytes, for [`known_member`].
static KEY_WORDS: [[u64; 3]; 10] = key_words(false);
static KEY_MASKS: [[u64; 3]; 10] = key_words(true);

const fn key_words(masks: bool) -> [[u64; 3]; 10] {
    let mut out = [[0u64; 3]; 10];
    let mut k = 0;
    while k < KEYS.len() {
        let mut bytes = [0u8; 24];
        let mut i = 0;
        let prefix = b"sentry-";
        while i < prefix.len() {
            bytes[i] = if masks { 0xff } else { prefix[i] };
            i += 1;
        }
        let name = KEYS[k].as_bytes();
        let mut j = 0;
        while j < name.len() {
            bytes[i] = if masks { 0xff } else { name[j] };
            i += 1;
            j += 1;
        }
        bytes[i] = if masks { 0xff } else { b'=' };
        let mut w = 0;
        while w < 3 {
            let mut v = 0u64;
            let mut byte = 0;
            while byte < 8 {
                v |= (bytes[w * 8 + byte] as u64) << (8 * byte);
                byte += 1;
            }
            out[k][w] = v;
            w += 1;
        }
        k += 1;
    }
    out
}
