//! Comparing two texts from both ends, as the reparsers and the overview's row order do to
//! find what changed between two captures: equal blocks cost one `memcmp` each.

/// Compared in blocks first, then byte by byte in the first block that differs.
const BLOCK: usize = 64;

/// The length of the longest common prefix of `a` and `b`.
pub fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let max = a.len().min(b.len());
    let mut at = 0;
    while at + BLOCK <= max && a[at..at + BLOCK] == b[at..at + BLOCK] {
        at += BLOCK;
    }
    at + (a[at..max].iter().zip(&b[at..max]))
        .take_while(|(x, y)| x == y)
        .count()
}

/// The length of the longest common suffix of `a` and `b`, at most `max` (pass what the
/// common prefix leaves, `min(len) - prefix`, so the two do not overlap).
pub fn common_suffix(a: &[u8], b: &[u8], max: usize) -> usize {
    let (la, lb) = (a.len(), b.len());
    let max = max.min(la).min(lb);
    let mut n = 0;
    while n + BLOCK <= max && a[la - n - BLOCK..la - n] == b[lb - n - BLOCK..lb - n] {
        n += BLOCK;
    }
    let rest = (a[..la - n].iter().rev())
        .zip(b[..lb - n].iter().rev())
        .take(max - n);
    n + rest.take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_and_suffix_across_blocks() {
        let a = "x".repeat(1000);
        let mut b = a.clone();
        b.replace_range(600..601, "y");
        let (a, b) = (a.as_bytes(), b.as_bytes());
        assert_eq!(common_prefix(a, b), 600);
        assert_eq!(common_suffix(a, b, 1000), 399);
        assert_eq!(common_suffix(a, b, 100), 100, "at most max");
        assert_eq!(common_prefix(a, a), 1000);
        assert_eq!(
            common_suffix(a, a, usize::MAX),
            1000,
            "max beyond the lengths"
        );
        assert_eq!(common_prefix(b"abc", b"abcd"), 3);
        assert_eq!(common_suffix(b"bcd", b"abcd", 3), 3);
        assert_eq!(common_prefix(b"", b"abcd"), 0);
        assert_eq!(common_suffix(b"", b"abcd", 0), 0);
        assert_eq!(common_suffix(&a[..700], a, 700), 700);
        // "aa" → "aaa": the prefix takes both bytes, the suffix what is left (none).
        let prefix = common_prefix(b"aa", b"aaa");
        assert_eq!((prefix, common_suffix(b"aa", b"aaa", 2 - prefix)), (2, 0));
    }
}
