//! `ClustersReparser`: one proxy's successive `/clusters?format=json` captures, each parsed
//! to exactly what [`parse_clusters_json`] gives, reading again only the clusters whose text
//! changed since the capture before.
//!
//! Between two polls most clusters of a sidecar carry no traffic and print the same bytes;
//! typically one or two clusters out of fifteen change. The previous capture's text is kept
//! with where each cluster object starts and ends. A new capture is compared with it from
//! both ends: the clusters that lie wholly inside the common prefix or the common suffix are
//! the previous clusters, unchanged (the suffix shifted by the change in length); the text
//! between them is read as a sequence of cluster objects. That is the fresh parse's answer
//! when:
//!
//! - the previous capture was parsed afresh (or re-parsed under these checks) with no issue;
//! - the changed text starts exactly where a previous cluster started (the document before it
//!   is byte for byte the same; a change between clusters or after the last one also reads
//!   the cluster before it) and ends exactly where a kept cluster starts, or, after the last
//!   cluster, the rest of the document is the same;
//! - that text is a comma-separated run of complete JSON values (followed by the comma before
//!   the kept cluster), each of which reads as a cluster with no issue.
//!
//! The document is then the same prefix, a run of whole values, and the same suffix, so a
//! fresh parse reads the same clusters in the same order. Anything else (damage, a change
//! outside the cluster list, an issue) is parsed afresh, and that parse becomes the reference.
//! (Each cluster is read from its own slice, as the fresh parser does for damaged documents;
//! the two agree for any nesting under serde_json's 128 levels.) Kept clusters are shared
//! with the previous dump (`Arc`), not copied: what a poller holds beyond the dump the app
//! holds anyway is the previous capture's text, within a [`KeepBudget`] that the pollers of
//! one set share.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::value::RawValue;

use super::json::{JsonClusters, parse_clusters_json};
use super::json_objects::{TypedCluster, cluster_from_json};
use super::{ClusterStatus, ClustersDump, ClustersFormat};
use crate::bytes::{common_prefix, common_suffix};
use crate::envoy::ParseError;

/// Parses one proxy's `/clusters?format=json` captures in turn; see the module documentation.
#[derive(Debug, Default)]
pub struct ClustersReparser {
    previous: Option<Previous>,
    reparsed: u64,
    fresh: u64,
    /// What the kept capture may take from, when shared with other reparsers.
    budget: Option<KeepBudget>,
    /// The bytes taken from `budget` for the kept capture.
    held: usize,
}

/// The bytes of kept captures (text, byte ranges and cluster pointers) that the reparsers
/// sharing it may hold together. Every sidecar lists every endpoint of the mesh, so a capture
/// grows with the mesh: at 1,000 pods one is about 0.9 MB, and one kept per pod is about
/// 0.9 GB of text alone. A reparser that finds the budget spent keeps nothing and parses each
/// capture afresh (the same answer, at the fresh parse's cost: with too little left for the
/// capture's text, its byte ranges are not looked for).
#[derive(Debug, Clone)]
pub struct KeepBudget {
    left: Arc<AtomicUsize>,
}

impl KeepBudget {
    pub fn new(bytes: usize) -> Self {
        KeepBudget {
            left: Arc::new(AtomicUsize::new(bytes)),
        }
    }

    /// Bytes not taken.
    pub fn left(&self) -> usize {
        self.left.load(Ordering::Relaxed)
    }

    /// Takes `bytes` if that many are left.
    fn take(&self, bytes: usize) -> bool {
        (self.left)
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(bytes)
            })
            .is_ok()
    }

    fn give(&self, bytes: usize) {
        self.left.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// The last capture: its text, each cluster's byte range in it, and its clusters.
#[derive(Debug)]
struct Previous {
    text: String,
    spans: Vec<Range<usize>>,
    clusters: Vec<Shared>,
}

impl ClustersReparser {
    /// A reparser that keeps every clean capture, however large.
    pub fn new() -> Self {
        ClustersReparser::default()
    }

    /// A reparser whose kept capture takes its bytes from `budget`.
    pub fn with_budget(budget: KeepBudget) -> Self {
        ClustersReparser {
            previous: None,
            reparsed: 0,
            fresh: 0,
            budget: Some(budget),
            held: 0,
        }
    }

    /// The capture `input` parsed: equal to `parse_clusters_json(input)`, error or dump.
    pub fn parse(&mut self, input: &str) -> Result<ClustersDump, ParseError> {
        if let Some(previous) = self.previous.as_mut()
            && previous.reparse(input)
        {
            self.reparsed += 1;
            let dump = json_dump(previous.clusters.clone());
            self.settle();
            return Ok(dump);
        }
        self.previous = None;
        self.settle();
        self.fresh += 1;
        let dump = parse_clusters_json(input)?;
        // With the budget spent, the byte ranges are not even looked for.
        let room = self.budget.as_ref().is_none_or(|b| b.left() >= input.len());
        if dump.issues.is_empty()
            && room
            && let Some(spans) = cluster_spans(input)
            && spans.len() == dump.clusters.len()
        {
            self.previous = Some(Previous {
                text: input.to_string(),
                spans,
                clusters: dump.clusters.clone(),
            });
            self.settle();
        }
        Ok(dump)
    }

    /// Brings what is held from the budget to what the kept capture needs (giving back the
    /// difference, or taking it); drops the capture and gives everything back when the budget
    /// cannot cover it. Only the difference moves, so a capture of unchanged size is never
    /// lost to another reparser between a give and a take.
    fn settle(&mut self) {
        let Some(budget) = &self.budget else {
            return;
        };
        let need = self.previous.as_ref().map_or(0, Previous::bytes);
        if need <= self.held {
            budget.give(self.held - need);
            self.held = need;
        } else if budget.take(need - self.held) {
            self.held = need;
        } else {
            budget.give(std::mem::take(&mut self.held));
            self.previous = None;
        }
    }

    /// Whether a capture is kept (the next one can be re-parsed).
    pub fn keeps(&self) -> bool {
        self.previous.is_some()
    }

    /// Captures re-parsed and parsed afresh so far.
    pub fn counts(&self) -> (u64, u64) {
        (self.reparsed, self.fresh)
    }
}

impl Drop for ClustersReparser {
    fn drop(&mut self) {
        if let Some(budget) = &self.budget {
            budget.give(self.held);
        }
    }
}

impl Previous {
    /// The bytes it holds beyond the clusters themselves (which the dumps sent share, as long
    /// as the receiver keeps them): text, byte ranges and cluster pointers.
    fn bytes(&self) -> usize {
        let ranges = self.spans.capacity() * std::mem::size_of::<Range<usize>>();
        let clusters = self.clusters.capacity() * std::mem::size_of::<Shared>();
        self.text.capacity() + ranges + clusters
    }

    /// Takes `input` in by reading only its changed clusters; `false` (self unchanged) when
    /// that would not be the fresh parse's answer.
    fn reparse(&mut self, input: &str) -> bool {
        let (old, new) = (self.text.as_bytes(), input.as_bytes());
        if old == new {
            return true;
        }
        let prefix = common_prefix(old, new);
        let suffix = common_suffix(old, new, old.len().min(new.len()) - prefix);
        // The first cluster not wholly in the common prefix; the first wholly in the suffix.
        // When the change starts between clusters or after the last one, the cluster before
        // it is read again too (clusters added or removed at the end).
        let first = match self.spans.partition_point(|r| r.end <= prefix) {
            at if self.spans.get(at).is_some_and(|r| r.start <= prefix) => at,
            at => match at.checked_sub(1) {
                Some(before) => before,
                None => return false,
            },
        };
        let kept_from = old.len() - suffix;
        let last = self.spans.partition_point(|r| r.start < kept_from);
        let Some(start) = self.spans.get(first).map(|r| r.start) else {
            return false;
        };
        // The old text from `end` on is the same in the new one, from `new_end` on.
        let (end, before_kept) = match self.spans.get(last) {
            Some(kept) => (kept.start, true),
            None => match self.spans.last() {
                Some(tail) if tail.end >= kept_from => (tail.end, false),
                _ => return false,
            },
        };
        let Some(new_end) = (end + new.len()).checked_sub(old.len()) else {
            return false;
        };
        let Some(changed) = input.get(start..new_end) else {
            return false;
        };
        let Some((clusters, spans)) = read_run(changed, before_kept, start) else {
            return false;
        };
        for kept in self.spans.get_mut(last..).unwrap_or_default() {
            *kept = (kept.start + new_end - end)..(kept.end + new_end - end);
        }
        self.spans.splice(first..last, spans);
        self.clusters.splice(first..last, clusters);
        // Exactly as long as the capture: a longer one would otherwise double the buffer.
        self.text.clear();
        self.text.reserve_exact(input.len());
        self.text.push_str(input);
        true
    }
}

/// A cluster as dumps hold it: shared between the dumps of successive captures.
type Shared = Arc<ClusterStatus>;

/// The dump a clean capture gives.
fn json_dump(clusters: Vec<Shared>) -> ClustersDump {
    let mut dump = ClustersDump::empty(ClustersFormat::Json);
    dump.clusters = clusters;
    dump
}

/// Reads `changed`, the text between the kept clusters, as a run of clusters with no issue,
/// and their byte ranges in the document (`changed` starts at `offset`). With `before_kept`
/// the run is nothing but whitespace (the clusters there were removed) or clusters followed
/// by the comma before a kept cluster; without, it ends the list and must hold at least one
/// cluster (`[A,]` is invalid). A lone comma is no run either: after `[` or `,` it makes the
/// document invalid.
fn read_run(
    changed: &str,
    before_kept: bool,
    offset: usize,
) -> Option<(Vec<Shared>, Vec<Range<usize>>)> {
    let trimmed = changed.trim_end_matches(is_json_space);
    let items = match before_kept {
        true if trimmed.is_empty() => "",
        true => trimmed.strip_suffix(',')?,
        false => trimmed,
    };
    // Only a run of nothing before a kept cluster may hold no value.
    if items.trim_matches(is_json_space).is_empty() && !(before_kept && trimmed.is_empty()) {
        return None;
    }
    let mut list = String::with_capacity(items.len() + 2);
    list.push('[');
    list.push_str(items);
    list.push(']');
    let raws: Vec<&RawValue> = serde_json::from_str(&list).ok()?;
    let mut clusters = Vec::with_capacity(raws.len());
    let mut spans = Vec::with_capacity(raws.len());
    for raw in raws {
        let text = raw.get();
        // `[` comes first in `list`, so a value at `at` in it is at `at - 1` in `changed`.
        let at = (text.as_ptr() as usize).checked_sub(list.as_ptr() as usize + 1)?;
        let cluster: TypedCluster<'_> = serde_json::from_str(text).ok()?;
        let mut clean = true;
        let status = cluster_from_json(cluster, Ok, Ok, &mut |_| clean = false);
        if !clean {
            return None;
        }
        clusters.push(Arc::new(status));
        spans.push(offset + at..offset + at + text.len());
    }
    Some((clusters, spans))
}

/// Whitespace as JSON defines it.
fn is_json_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// The byte range of each cluster object of a valid document, in order.
fn cluster_spans(input: &str) -> Option<Vec<Range<usize>>> {
    let doc: JsonClusters<&RawValue> = serde_json::from_str(input).ok()?;
    let base = input.as_ptr() as usize;
    (doc.cluster_statuses.iter())
        .map(|raw| {
            let start = (raw.get().as_ptr() as usize).checked_sub(base)?;
            let span = start..start + raw.get().len();
            (input.get(span.clone()) == Some(raw.get())).then_some(span)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn cluster(name: &str, rq_total: u64) -> String {
        format!(
            r#"{{
   "name": "{name}",
   "added_via_api": true,
   "host_statuses": [
    {{
     "address": {{"socket_address": {{"address": "10.0.0.1", "port_value": 8080}}}},
     "stats": [{{"name": "rq_total", "value": "{rq_total}"}}, {{"name": "rq_timeout"}}],
     "health_status": {{"eds_health_status": "HEALTHY"}}
    }}
   ]
  }}"#
        )
    }

    fn doc(clusters: &[String]) -> String {
        format!(
            "{{\n \"cluster_statuses\": [\n  {}\n ]\n}}\n",
            clusters.join(",\n  ")
        )
    }

    fn names(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("outbound|80||s{i}.prod.svc.cluster.local"))
            .collect()
    }

    /// Every capture of `docs`, in turn, parses as a fresh parse would; returns the counts.
    fn check(docs: &[String]) -> (u64, u64) {
        let mut parser = ClustersReparser::new();
        for (i, d) in docs.iter().enumerate() {
            let fresh = parse_clusters_json(d);
            let got = parser.parse(d);
            assert_eq!(
                got.as_ref().map_err(ToString::to_string),
                fresh.as_ref().map_err(ToString::to_string),
                "capture {i}:\n{d}"
            );
        }
        parser.counts()
    }

    /// Reparsers sharing a budget keep captures only while it covers them: the others parse
    /// afresh, with the same answers; a kept capture that outgrows what is left is dropped;
    /// whatever a reparser held is given back when it is dropped.
    #[test]
    fn kept_captures_share_a_budget() {
        let small: Vec<String> = names(3).iter().map(|n| cluster(n, 1)).collect();
        let small = doc(&small);
        let moved = small.replacen("\"value\": \"1\"", "\"value\": \"2\"", 1);
        assert_ne!(moved, small);
        // Room for one small capture (its text, ranges and cluster pointers), not two.
        let budget = KeepBudget::new(small.len() * 3 / 2);
        let full = budget.left();
        let mut first = ClustersReparser::with_budget(budget.clone());
        let mut second = ClustersReparser::with_budget(budget.clone());
        let same = |got: Result<ClustersDump, ParseError>, d: &str| {
            let want = parse_clusters_json(d).map_err(|e| e.to_string());
            assert_eq!(got.map_err(|e| e.to_string()), want);
        };
        same(first.parse(&small), &small);
        same(second.parse(&small), &small);
        assert!(first.keeps() && !second.keeps(), "the budget covers one");
        assert!(budget.left() < full);
        same(first.parse(&moved), &moved);
        same(second.parse(&moved), &moved);
        assert_eq!(first.counts(), (1, 1), "re-parsed from the kept capture");
        // A capture one byte longer is kept in a buffer of its length, not a doubled one.
        let longer = moved.replacen("\"value\": \"2\"", "\"value\": \"20\"", 1);
        assert_eq!(longer.len(), moved.len() + 1);
        same(first.parse(&longer), &longer);
        assert!(first.keeps());
        let held = full - budget.left();
        assert!(held >= longer.len() && held < longer.len() + 512, "{held}");
        same(first.parse(&moved), &moved);
        assert_eq!(second.counts(), (0, 2), "parsed afresh");
        assert_eq!(first.counts(), (3, 1));
        drop(first);
        assert_eq!(budget.left(), full, "given back");
        same(second.parse(&small), &small);
        assert!(second.keeps());
        // A capture larger than the whole budget is not kept, and what was held is freed.
        let large: Vec<String> = names(40).iter().map(|n| cluster(n, 1)).collect();
        let large = doc(&large);
        same(second.parse(&large), &large);
        assert!(!second.keeps());
        assert_eq!(budget.left(), full);
    }

    #[test]
    fn only_changed_clusters_are_read_again_and_the_result_equals_a_fresh_parse() {
        let n = names(5);
        let at = |moved: &[(usize, u64)]| {
            let mut values = [1u64, 2, 3, 4, 5];
            for &(i, v) in moved {
                values[i] = v;
            }
            doc(&(n.iter().zip(values))
                .map(|(n, v)| cluster(n, v))
                .collect::<Vec<_>>())
        };
        let docs = [
            at(&[]),
            at(&[]),               // identical
            at(&[(2, 30)]),        // middle, same length
            at(&[(2, 300_000)]),   // middle, longer
            at(&[(0, 10)]),        // first
            at(&[(4, 500_000)]),   // last
            at(&[(0, 7), (4, 8)]), // both ends: everything between is read again
        ];
        assert_eq!(check(&docs), (6, 1));
    }

    #[test]
    fn clusters_added_removed_or_reordered_equal_a_fresh_parse() {
        let n = names(4);
        let c = |i: usize, v: u64| cluster(&n[i], v);
        let docs = [
            doc(&[c(0, 1), c(1, 1), c(2, 1)]),
            doc(&[c(0, 1), c(1, 1), c(3, 1), c(2, 1)]), // inserted in the middle
            doc(&[c(0, 1), c(1, 1), c(2, 1)]),          // removed again
            doc(&[c(0, 1), c(1, 1), c(2, 1), c(3, 1)]), // appended
            doc(&[c(0, 1), c(1, 1), c(2, 1)]),          // last one removed
            doc(&[c(3, 1), c(0, 1), c(1, 1), c(2, 1)]), // prepended
            doc(&[c(0, 1), c(1, 1), c(2, 1)]),          // first one removed
            doc(&[c(0, 1), c(2, 1), c(1, 1)]),          // swapped
            doc(&[c(0, 1)]),
            doc(&[]),
            doc(&[c(1, 1)]),
        ];
        // Fresh: the first, the empty list and the one after it (nothing to start from).
        assert_eq!(check(&docs), (8, 3));
    }

    #[test]
    fn damage_issues_and_changes_outside_the_list_are_parsed_afresh() {
        let n = names(3);
        let base = doc(&[cluster(&n[0], 1), cluster(&n[1], 1), cluster(&n[2], 1)]);
        let bad_host = base.replacen("\"HEALTHY\"", "\"NO_SUCH_STATUS\"", 1);
        let docs = [
            base.clone(),
            base.replacen(
                "\"rq_total\", \"value\": \"1\"",
                "\"rq_total\", \"value\": ",
                1,
            ),
            base.clone(),
            base.replacen("\"value\": \"1\"", "\"value\": \"1\"}, {", 1),
            base.clone(),
            bad_host.clone(),
            bad_host,
            base.clone(),
            base.replacen(
                "{\n \"cluster_statuses\"",
                "{\"x\": 1, \"cluster_statuses\"",
                1,
            ),
            base.clone(),
            base.replace("\n ]\n}\n", "\n ], \"y\": [1,]\n}\n"),
            base.clone(),
            base.replace("\n ]\n}\n", "\n ,]\n}\n"),
            base.clone(),
            base.replace(",\n  {\n   \"name\"", ",,\n  {\n   \"name\""),
            base.clone(),
            base[..base.len() / 2].to_string(),
            base.clone(),
            "   ".to_string(),
            "{}".to_string(),
            base.clone(),
            base.replace(",\n  {", ",\n   {"),
            base.replace("\n  {", "\n  ").replacen("\n  ", "\n  {", 1),
            base,
        ];
        check(&docs);
    }

    /// A comma inserted where a cluster starts leaves a run of just `,`: invalid JSON, as a
    /// fresh parse says (found by a review).
    #[test]
    fn a_lone_comma_where_a_cluster_starts_is_damage() {
        let n = names(3);
        let a = doc(&[cluster(&n[0], 1), cluster(&n[1], 1), cluster(&n[2], 1)]);
        for k in 1..=3 {
            let damaged = a.replacen("\n  {", "\n  ,{", k);
            assert!(parse_clusters_json(&damaged).is_err());
            check(&[a.clone(), damaged.clone(), damaged, a.clone()]);
        }
        let one = doc(&[cluster(&n[0], 1)]);
        check(&[one.clone(), one.replacen("\n  {", "\n  ,{", 1), one.clone()]);
        // The last cluster removed and its comma left: `[A,]`.
        let two = doc(&[cluster(&n[0], 1), cluster(&n[1], 1)]);
        let trailing = two.replacen(&format!(",\n  {}", cluster(&n[1], 1)), ",", 1);
        assert!(parse_clusters_json(&trailing).is_err());
        check(&[two.clone(), trailing, two]);
    }

    #[test]
    fn a_whitespace_change_between_clusters_reads_the_cluster_before_it_again() {
        let n = names(3);
        let a = doc(&[cluster(&n[0], 1), cluster(&n[1], 1), cluster(&n[2], 1)]);
        let b = a.replacen(",\n  {", ",\n\n  {", 2);
        assert_eq!(check(&[a.clone(), b, a]), (2, 1));
    }

    /// One edit of a capture: a host counter moves, a cluster comes, goes or swaps places, or
    /// bytes anywhere are replaced (mostly damage).
    #[derive(Debug, Clone)]
    enum Edit {
        Value(usize, u64),
        Insert(usize),
        Remove(usize),
        Swap(usize),
        Splice(usize, usize, String),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            4 => (0..8usize, 0..2_000u64).prop_map(|(i, v)| Edit::Value(i, v)),
            1 => (0..8usize).prop_map(Edit::Insert),
            1 => (0..8usize).prop_map(Edit::Remove),
            1 => (0..8usize).prop_map(Edit::Swap),
            1 => (0..2_000usize, 0..4usize, "[ ,{}\\[\\]\":0-9a\n]{0,3}")
                .prop_map(|(at, len, text)| Edit::Splice(at, len, text)),
        ]
    }

    proptest! {
        #[test]
        fn any_sequence_of_captures_parses_as_a_fresh_parse(
            edits in proptest::collection::vec(edit(), 1..12),
        ) {
            let n = names(12);
            let mut live: Vec<(usize, u64)> = (0..5).map(|i| (i, 1)).collect();
            let mut spare = 5;
            let mut docs: Vec<String> = vec![];
            for e in edits {
                let mut text = None;
                match e {
                    Edit::Value(i, v) if !live.is_empty() => {
                        let at = i % live.len();
                        live[at].1 = v;
                    }
                    Edit::Insert(i) if spare < n.len() => {
                        live.insert(i % (live.len() + 1), (spare, 1));
                        spare += 1;
                    }
                    Edit::Remove(i) if !live.is_empty() => {
                        let at = i % live.len();
                        live.remove(at);
                    }
                    Edit::Swap(i) if live.len() > 1 => {
                        let at = i % (live.len() - 1);
                        live.swap(at, at + 1);
                    }
                    Edit::Splice(at, len, with) => {
                        let mut d = docs.last().cloned().unwrap_or_default();
                        let at = at.min(d.len());
                        d.replace_range(at..(at + len).min(d.len()), &with);
                        text = Some(d);
                    }
                    _ => {}
                }
                let list: Vec<String> = live.iter().map(|&(i, v)| cluster(&n[i], v)).collect();
                docs.push(text.unwrap_or_else(|| doc(&list)));
            }
            check(&docs);
        }
    }

    #[test]
    fn common_ends_are_found_across_block_boundaries() {
        let a: Vec<u8> = (0..200u8).collect();
        for at in [0, 1, 63, 64, 65, 127, 128, 199] {
            let mut b = a.clone();
            b[at] = 255;
            assert_eq!(common_prefix(&a, &b), at);
            assert_eq!(common_suffix(&a, &b, 200 - common_prefix(&a, &b)), 199 - at);
        }
        assert_eq!(common_prefix(&a, &a[..70]), 70);
        assert_eq!(common_suffix(&a, &a[130..], 70), 70);
        assert_eq!(common_suffix(b"abab", b"ab", 0), 0, "bounded");
    }
}
