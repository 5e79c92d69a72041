//! `ChunkedRing`: a ring buffer of fixed-width rows addressed by a global sequence number,
//! stored in shared fixed-size chunks so that a frozen copy costs a few reference counts.
//!
//! Rows are appended at the end and dropped from the front. Full chunks are never written
//! again, so a clone (the pause key's frozen view) shares them; only the open tail chunk is
//! copied, once, on the next append after a clone. Dropping rows releases memory a whole
//! chunk at a time; rows dropped from a partly kept chunk are invisible but still allocated.

use std::collections::VecDeque;
use std::sync::Arc;

/// Rows per chunk: small enough that the unfilled tail and the dropped-but-kept front are a
/// few percent of 10 minutes at 2 s, large enough that chunk headers are negligible.
pub(crate) const ROWS_PER_CHUNK: usize = 16;

/// Rows of `width` values each; row `seq` lives in chunk `(seq - first_seq) / ROWS_PER_CHUNK`.
#[derive(Debug, Clone)]
pub(crate) struct ChunkedRing<T> {
    width: usize,
    /// Sequence number of the first row of `chunks[0]`.
    first_seq: u64,
    /// Rows of `chunks[0]` already dropped.
    skip: usize,
    /// All chunks but the last are full.
    chunks: VecDeque<Arc<Vec<T>>>,
}

impl<T: Copy> ChunkedRing<T> {
    /// An empty ring whose first row will be `first_seq`.
    pub(crate) fn new(width: usize, first_seq: u64) -> Self {
        ChunkedRing {
            width: width.max(1),
            first_seq,
            skip: 0,
            chunks: VecDeque::new(),
        }
    }

    /// Sequence number of the oldest kept row.
    pub(crate) fn start_seq(&self) -> u64 {
        self.first_seq + self.skip as u64
    }

    /// Sequence number the next appended row gets.
    pub(crate) fn end_seq(&self) -> u64 {
        let full = self.chunks.len().saturating_sub(1) * ROWS_PER_CHUNK;
        let tail = self.chunks.back().map_or(0, |c| c.len() / self.width);
        self.first_seq + (full + tail) as u64
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.start_seq() >= self.end_seq()
    }

    /// Appends one row; `row` must have the ring's width (shorter rows are padded with
    /// `fill`, longer ones cut).
    pub(crate) fn push_row(&mut self, row: &[T], fill: T) {
        let cap = ROWS_PER_CHUNK * self.width;
        let tail_full = self.chunks.back().is_none_or(|c| c.len() >= cap);
        if tail_full {
            self.chunks.push_back(Arc::new(Vec::with_capacity(cap)));
        }
        let Some(tail) = self.chunks.back_mut() else {
            return;
        };
        if Arc::get_mut(tail).is_none() {
            // Shared with a frozen copy: copy the tail once, at full chunk capacity.
            let mut own = Vec::with_capacity(cap);
            own.extend_from_slice(tail);
            *tail = Arc::new(own);
        }
        if let Some(chunk) = Arc::get_mut(tail) {
            let n = row.len().min(self.width);
            chunk.extend_from_slice(&row[..n]);
            chunk.extend(std::iter::repeat_n(fill, self.width - n));
        }
    }

    /// The row with sequence number `seq`, when it is kept.
    pub(crate) fn row(&self, seq: u64) -> Option<&[T]> {
        if seq < self.start_seq() {
            return None;
        }
        let offset = usize::try_from(seq - self.first_seq).ok()?;
        let chunk = self.chunks.get(offset / ROWS_PER_CHUNK)?;
        let start = (offset % ROWS_PER_CHUNK) * self.width;
        chunk.get(start..start + self.width)
    }

    /// The kept rows among `seqs`, oldest first, read chunk by chunk.
    pub(crate) fn rows(&self, seqs: std::ops::Range<u64>) -> impl Iterator<Item = &[T]> + '_ {
        let lo = seqs.start.max(self.start_seq());
        let hi = seqs.end.min(self.end_seq()).max(lo);
        let (start, end) = (
            (lo - self.first_seq) as usize,
            (hi - self.first_seq) as usize,
        );
        let width = self.width;
        (start / ROWS_PER_CHUNK..end.div_ceil(ROWS_PER_CHUNK)).flat_map(move |c| {
            let base = c * ROWS_PER_CHUNK;
            let (from, to) = (
                start.max(base) - base,
                end.min(base + ROWS_PER_CHUNK) - base,
            );
            let chunk = self.chunks.get(c).map_or(&[][..], |v| v.as_slice());
            chunk
                .get(from * width..to * width)
                .unwrap_or_default()
                .chunks_exact(width)
        })
    }

    /// Drops every row with a sequence number below `seq`.
    pub(crate) fn drop_before(&mut self, seq: u64) {
        let target = seq.min(self.end_seq());
        while target > self.start_seq() {
            let in_first = (target - self.first_seq).min(ROWS_PER_CHUNK as u64) as usize;
            if in_first < ROWS_PER_CHUNK || self.chunks.len() <= 1 {
                self.skip = in_first;
                break;
            }
            self.chunks.pop_front();
            self.first_seq += ROWS_PER_CHUNK as u64;
            self.skip = 0;
        }
        if self.is_empty() {
            let end = self.end_seq();
            *self = ChunkedRing::new(self.width, end);
        }
    }

    /// The first sequence number in the kept rows whose row fails `pred`, assuming `pred`
    /// holds for a prefix of the rows (binary search); `end_seq` when it holds for all.
    pub(crate) fn partition_point(&self, pred: impl Fn(&[T]) -> bool) -> u64 {
        let (mut lo, mut hi) = (self.start_seq(), self.end_seq());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.row(mid) {
                Some(row) if pred(row) => lo = mid + 1,
                _ => hi = mid,
            }
        }
        lo
    }

    /// Kept rows times width: the number of stored slots.
    pub(crate) fn slots(&self) -> usize {
        (self.end_seq() - self.start_seq()) as usize * self.width
    }

    /// Heap bytes held, counting shared chunks in full.
    pub(crate) fn heap_bytes(&self) -> usize {
        let arc_header = 2 * std::mem::size_of::<usize>() + std::mem::size_of::<Vec<T>>();
        let chunks: usize = self
            .chunks
            .iter()
            .map(|c| arc_header + c.capacity() * std::mem::size_of::<T>())
            .sum();
        chunks + self.chunks.capacity() * std::mem::size_of::<Arc<Vec<T>>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring_with(rows: u64) -> ChunkedRing<u64> {
        let mut r = ChunkedRing::new(2, 100);
        for i in 0..rows {
            r.push_row(&[i, i * 10], 0);
        }
        r
    }

    #[test]
    fn rows_of_a_range_cross_chunks_and_skip_dropped_rows() {
        let mut r = ring_with(40);
        let firsts =
            |r: &ChunkedRing<u64>, seqs| r.rows(seqs).map(|row| row[0]).collect::<Vec<_>>();
        assert_eq!(
            firsts(&r, 114..118),
            vec![14, 15, 16, 17],
            "across a chunk boundary"
        );
        assert_eq!(firsts(&r, 90..103), vec![0, 1, 2], "before the first row");
        assert_eq!(firsts(&r, 138..200), vec![38, 39], "past the last row");
        assert_eq!(firsts(&r, 120..120), Vec::<u64>::new());
        let backwards = std::ops::Range {
            start: 125,
            end: 120,
        };
        assert_eq!(firsts(&r, backwards), Vec::<u64>::new(), "backwards");
        r.drop_before(121);
        assert_eq!(
            firsts(&r, 100..124),
            vec![21, 22, 23],
            "dropped rows are not read"
        );
        let all: Vec<u64> = r.rows(0..u64::MAX).map(|row| row[1]).collect();
        assert_eq!(all, (21..40).map(|i| i * 10).collect::<Vec<_>>());
    }

    #[test]
    fn rows_are_addressed_by_sequence_number() {
        let r = ring_with(40);
        assert_eq!((r.start_seq(), r.end_seq()), (100, 140));
        assert_eq!(r.row(100), Some(&[0, 0][..]));
        assert_eq!(r.row(117), Some(&[17, 170][..]));
        assert_eq!(r.row(139), Some(&[39, 390][..]));
        assert_eq!(r.row(140), None);
        assert_eq!(r.row(99), None);
        assert_eq!(r.slots(), 80);
        assert_eq!(r.chunks.len(), 3);
    }

    #[test]
    fn short_rows_are_padded_and_long_rows_cut() {
        let mut r = ChunkedRing::new(3, 0);
        r.push_row(&[1], 9);
        r.push_row(&[1, 2, 3, 4], 9);
        assert_eq!(r.row(0), Some(&[1, 9, 9][..]));
        assert_eq!(r.row(1), Some(&[1, 2, 3][..]));
    }

    #[test]
    fn dropping_releases_whole_chunks_only() {
        let mut r = ring_with(40);
        r.drop_before(110);
        assert_eq!(r.start_seq(), 110);
        assert_eq!(r.row(109), None);
        assert_eq!(r.row(110), Some(&[10, 100][..]));
        assert_eq!(r.chunks.len(), 3, "the first chunk still has kept rows");
        r.drop_before(133);
        assert_eq!(r.chunks.len(), 1);
        assert_eq!((r.start_seq(), r.end_seq()), (133, 140));
        assert_eq!(r.row(135), Some(&[35, 350][..]));
        r.drop_before(500);
        assert!(r.is_empty());
        assert_eq!(r.chunks.len(), 0);
        r.push_row(&[7, 7], 0);
        assert_eq!(r.row(140), Some(&[7, 7][..]), "numbering continues");
    }

    #[test]
    fn a_clone_shares_full_chunks_and_keeps_its_rows() {
        let mut live = ring_with(20);
        let frozen = live.clone();
        assert!(Arc::ptr_eq(&live.chunks[0], &frozen.chunks[0]));
        live.push_row(&[99, 99], 0);
        live.drop_before(117);
        assert_eq!(frozen.end_seq(), 120);
        assert_eq!(frozen.row(100), Some(&[0, 0][..]));
        assert_eq!(frozen.row(120), None);
        assert_eq!(live.row(120), Some(&[99, 99][..]));
        assert_eq!(live.chunks[0].capacity(), ROWS_PER_CHUNK * 2);
    }

    #[test]
    fn partition_point_finds_the_first_failing_row() {
        let r = ring_with(40);
        assert_eq!(r.partition_point(|row| row[0] < 17), 117);
        assert_eq!(r.partition_point(|_| true), 140);
        assert_eq!(r.partition_point(|_| false), 100);
        assert_eq!(ChunkedRing::<u64>::new(1, 5).partition_point(|_| true), 5);
    }
}
