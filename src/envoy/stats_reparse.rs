//! `StatsReparser`: one proxy's successive `/stats` captures, each parsed to exactly what
//! [`parse_stats_text`] gives, at the cost of a re-parse when the capture lists the same stats
//! as the one before.
//!
//! A poller reads the same proxy every few seconds, and Envoy prints the same names in the
//! same order each time; only the numbers move. Re-parsing into the previous capture's
//! [`StatsSet`] finds every line where the cursor expects it (no hashing, no name splitting,
//! no allocation per line), but a set that remembers earlier captures may split a new name
//! differently from a fresh parse. So the re-parse is used only when it provably gives the
//! fresh parse's answer:
//!
//! - the capture has the same lines as the previous one — each line's stat name, and whether
//!   its value is a plain integer (which decides the parser's path), in the same order — so a
//!   fresh parse would make the same decisions as it made for the previous capture;
//! - the previous capture was parsed afresh (or re-parsed under these checks) with no damaged
//!   line, and its parse recorded where each line was written (table and position);
//! - the re-parse reports no damaged line and writes every line to the same place as that
//!   parse did (so each value lands where a fresh parse puts it, repeats and all, and no stat
//!   or cluster appears that the fresh parse would not have).
//!
//! Anything else (a new cluster, a stat that appeared or went, a damaged line) is parsed
//! afresh, and that parse becomes the reference for the next capture.

use super::error::ParseError;
use super::stats_set::StatsFormat;
use super::stats_set::StatsSet;
use super::stats_text::parse_stats_text_into;

/// Parses one proxy's captures in turn; see the module documentation.
#[derive(Debug, Default)]
pub struct StatsReparser {
    previous: Option<Previous>,
    /// The skeleton of the capture being parsed (kept to reuse its memory).
    skeleton: Vec<u8>,
    reparsed: u64,
    fresh: u64,
}

/// The last capture: its set (re-parsed in place), its lines' skeleton and where the
/// reference parse wrote each line.
#[derive(Debug)]
struct Previous {
    set: StatsSet,
    skeleton: Vec<u8>,
    placements: Vec<u64>,
}

impl StatsReparser {
    pub fn new() -> Self {
        StatsReparser::default()
    }

    /// The capture `input` parsed: equal to `parse_stats_text(input)` in every stat, cluster,
    /// order, issue and count.
    pub fn parse(&mut self, input: &[u8]) -> Result<StatsSet, ParseError> {
        skeleton(input, &mut self.skeleton);
        if let Some(previous) = self.previous.as_mut()
            && previous.skeleton == self.skeleton
            && parse_stats_text_into(input, &mut previous.set).is_ok()
            && previous.set.issues().is_empty()
            && previous.set.placements() == previous.placements.as_slice()
        {
            self.reparsed += 1;
            return Ok(previous.set.reading_copy());
        }
        self.previous = None;
        self.fresh += 1;
        let mut set = StatsSet::new(StatsFormat::Text);
        set.track_placements();
        parse_stats_text_into(input, &mut set)?;
        let copy = set.reading_copy();
        if set.issues().is_empty() {
            self.previous = Some(Previous {
                placements: set.placements().to_vec(),
                set,
                skeleton: std::mem::take(&mut self.skeleton),
            });
        }
        Ok(copy)
    }

    /// Captures re-parsed into the previous set, and captures parsed afresh.
    pub fn counts(&self) -> (u64, u64) {
        (self.reparsed, self.fresh)
    }
}

/// What decides how a capture is parsed, line by line: the stat name (up to the first space,
/// the `:` included) and whether the value is all digits (the parser's integer fast path), each
/// line closed by `\n`. Lines are cut as the parser cuts them (`\n`, a trailing `\r` dropped,
/// empty lines skipped).
fn skeleton(input: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', input).chain(std::iter::once(input.len()));
    for end in ends {
        let line = input.get(start..end).unwrap_or_default();
        start = end + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let (name, value) = match memchr::memchr(b' ', line) {
            Some(i) => line.split_at(i),
            None => (line, &[][..]),
        };
        let digits = value.len() > 1 && value[1..].iter().all(u8::is_ascii_digit);
        out.extend_from_slice(name);
        out.push(if digits { b'0' } else { b'-' });
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envoy::StatValue;
    use crate::envoy::stats_text::parse_stats_text;

    /// Everything a reader of a set can see, in order.
    type Observed = (
        usize,
        Vec<(usize, String)>,
        Vec<(String, Vec<(String, StatValue)>)>,
        Vec<(String, StatValue)>,
    );

    fn observe(set: &StatsSet) -> Observed {
        let stats = |t: &crate::envoy::StatTable| {
            t.iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<Vec<_>>()
        };
        (
            set.stat_count,
            (set.issues().iter())
                .map(|i| (i.line, i.message.clone()))
                .collect(),
            (set.clusters())
                .map(|c| (format!("{:?}", c.key), stats(&c.stats)))
                .collect(),
            stats(set.other()),
        )
    }

    const A: &str = "outbound|8080||inventory-svc.prod.svc.cluster.local";
    const B: &str = "outbound|9090||payments.prod.svc.cluster.local";

    fn capture(n: u64) -> String {
        format!(
            "cluster.{A}.upstream_rq_timeout: {n}\ncluster.{A}.upstream_rq_total: {}\n\
             cluster.{B}.upstream_rq_total: 7\nserver.uptime: {}\n\
             cluster.{A}.upstream_rq_time: P0(nan,1) P25(nan,2) P50(nan,{n}) P99(nan,9)\n",
            n * 10,
            n + 100
        )
    }

    #[test]
    fn the_same_lines_are_reparsed_and_equal_a_fresh_parse() {
        let mut parser = StatsReparser::new();
        for n in 1..6 {
            let text = capture(n);
            let set = parser.parse(text.as_bytes()).unwrap();
            assert_eq!(
                observe(&set),
                observe(&parse_stats_text(text.as_bytes()).unwrap())
            );
            assert_eq!(set.cluster(A).unwrap().int("upstream_rq_timeout"), Some(n));
        }
        assert_eq!(parser.counts(), (4, 1), "one fresh parse, then re-parses");
    }

    #[test]
    fn anything_but_the_same_lines_is_parsed_afresh() {
        let base = capture(1);
        let cases = [
            // A stat appears, a stat goes, two lines swap, a value stops being an integer, a
            // damaged line, a new cluster.
            format!("{base}cluster.{B}.upstream_rq_timeout: 1\n"),
            base.lines().skip(1).map(|l| format!("{l}\n")).collect(),
            {
                let mut lines: Vec<&str> = base.lines().collect();
                lines.swap(0, 1);
                lines.join("\n")
            },
            base.replace("server.uptime: 101", "server.uptime: \"101\""),
            format!("{base}garbage line\n"),
            format!("{base}cluster.outbound|1||new.prod.svc.cluster.local.upstream_rq_total: 1\n"),
        ];
        for case in cases {
            let mut parser = StatsReparser::new();
            parser.parse(base.as_bytes()).unwrap();
            let set = parser.parse(case.as_bytes()).unwrap();
            assert_eq!(
                observe(&set),
                observe(&parse_stats_text(case.as_bytes()).unwrap()),
                "{case}"
            );
            assert_eq!(parser.counts(), (0, 2), "{case}");
        }
    }

    #[test]
    fn a_damaged_capture_is_never_the_reference_a_repeated_name_can_be() {
        for (text, reparsed) in [
            (format!("{}garbage line\n", capture(1)), 0),
            (format!("{}server.uptime: 5\n", capture(1)), 2),
        ] {
            let mut parser = StatsReparser::new();
            for _ in 0..3 {
                let set = parser.parse(text.as_bytes()).unwrap();
                assert_eq!(
                    observe(&set),
                    observe(&parse_stats_text(text.as_bytes()).unwrap())
                );
            }
            assert_eq!(parser.counts(), (reparsed, 3 - reparsed), "{text}");
        }
    }

    #[test]
    fn a_failed_parse_is_reported_and_forgets_the_reference() {
        let mut parser = StatsReparser::new();
        parser.parse(capture(1).as_bytes()).unwrap();
        assert!(parser.parse(b"\x00\x01 binary").is_err());
        parser.parse(capture(2).as_bytes()).unwrap();
        assert_eq!(parser.counts(), (0, 3));
    }

    /// A name that splits differently once the set has seen a later capture: the scoped stat
    /// `internal.upstream_rq_200` of cluster `…metadata.google` until a cluster named
    /// `…metadata.google.internal` shows up. Whatever the order of captures, each result is a
    /// fresh parse's.
    #[test]
    fn names_whose_split_depends_on_other_lines_still_equal_a_fresh_parse() {
        let g = "outbound|80||metadata.google";
        let first = format!("cluster.{g}.internal.upstream_rq_200: 1\nserver.uptime: 1\n");
        let both = format!(
            "cluster.{g}.internal.upstream_rq_200: 2\ncluster.{g}.internal.upstream_rq_total: 3\n\
             server.uptime: 2\n"
        );
        let mut parser = StatsReparser::new();
        for text in [&first, &both, &first, &first, &both, &both] {
            let set = parser.parse(text.as_bytes()).unwrap();
            assert_eq!(
                observe(&set),
                observe(&parse_stats_text(text.as_bytes()).unwrap())
            );
        }
    }

    /// Stat names whose split depends on which other names the capture has: scope words inside
    /// host names, the `;.` delimiter, a cluster whose name is another's prefix, unknown
    /// suffixes, non-cluster stats.
    const NAMES: &[&str] = &[
        "cluster.outbound|80||metadata.google.internal.upstream_rq_200",
        "cluster.outbound|80||metadata.google.internal.upstream_rq_total",
        "cluster.outbound|80||metadata.google.upstream_rq_total",
        "cluster.outbound|80||a.prod;.upstream_rq_total",
        "cluster.outbound|80||a.prod.upstream_rq_timeout",
        "cluster.outbound|80||a.prod.canary.upstream_rq_total",
        "cluster.outbound|80||a.prod.made_up_stat",
        "cluster.outbound|80|v1|a.prod.upstream_rq_total",
        "cluster.xds-grpc.upstream_cx_total",
        "cluster.xds-grpc.ssl.versions.TLSv1.3",
        "cluster.made.up.name",
        "server.uptime",
        "http.inbound_0.0.0.0_8080.downstream_rq_total",
    ];

    /// One line of a generated capture: a name from [`NAMES`] and its value's kind.
    fn line(name: usize, kind: u8, n: u64) -> String {
        let name = NAMES[name % NAMES.len()];
        match kind % 4 {
            0 | 1 => format!("{name}: {n}\n"),
            2 => format!("{name}: P0(nan,{n}) P99(nan,{})\n", n + 1),
            _ => format!("{name}: \"text {n}\"\n"),
        }
    }

    proptest::proptest! {
        /// Captures drawn from a few layouts (so that layouts repeat and get re-parsed), with
        /// new numbers each time: every result equals a fresh parse of the same bytes.
        #[test]
        fn every_capture_equals_a_fresh_parse(
            layouts in proptest::collection::vec(
                proptest::collection::vec((0..NAMES.len(), 0u8..4), 0..8), 1..4),
            order in proptest::collection::vec((0usize..4, 0u64..1000), 1..12),
        ) {
            let mut parser = StatsReparser::new();
            for (layout, n) in order {
                let layout = &layouts[layout % layouts.len()];
                let text: String = (layout.iter().enumerate())
                    .map(|(i, &(name, kind))| line(name, kind, n + i as u64))
                    .collect();
                let fresh = parse_stats_text(text.as_bytes());
                let ours = parser.parse(text.as_bytes());
                match (fresh, ours) {
                    (Ok(fresh), Ok(ours)) => proptest::prop_assert_eq!(observe(&ours), observe(&fresh)),
                    (Err(a), Err(b)) => proptest::prop_assert_eq!(a.to_string(), b.to_string()),
                    (a, b) => proptest::prop_assert!(false, "{:?} vs {:?}", a.is_ok(), b.is_ok()),
                }
            }
        }
    }

    /// Two different names for one stat (`a.b;.x` and `a.b.x`): the fresh parse writes both
    /// lines to it, the set's memory sends the second elsewhere on a re-parse (to cluster `a`,
    /// which learned `b.upstream_rq_total` from the fourth line), and a later line overwrites
    /// that, so the same stats end up present. Where each line went tells them apart.
    #[test]
    fn a_line_written_elsewhere_than_by_the_reference_parse_is_parsed_afresh() {
        let lines = |n: [u64; 4]| {
            format!(
                "cluster.a.b;.upstream_rq_total: {}\ncluster.a.upstream_rq_timeout: {}\n\
                 cluster.a.b.upstream_rq_total: {}\ncluster.a;.b.upstream_rq_total: {}\n",
                n[0], n[1], n[2], n[3]
            )
        };
        let mut parser = StatsReparser::new();
        for n in [[1, 2, 3, 4], [10, 20, 30, 40], [11, 21, 31, 41]] {
            let text = lines(n);
            let fresh = parse_stats_text(text.as_bytes()).unwrap();
            assert_eq!(
                observe(&parser.parse(text.as_bytes()).unwrap()),
                observe(&fresh)
            );
            let ab = fresh
                .cluster("a.b")
                .and_then(|c| c.int("upstream_rq_total"));
            assert_eq!(ab, Some(n[2]), "the later line wins, as in a fresh parse");
        }
        assert_eq!(parser.counts(), (0, 3));
    }

    /// An integer of more than 20 digits (zero-padded) is a damaged line for the general
    /// path; the steady-state fast path must not read it either.
    #[test]
    fn a_long_zero_padded_integer_is_damage_on_every_path() {
        let mut parser = StatsReparser::new();
        let name = "cluster.outbound|80||a.prod.svc.cluster.local.upstream_rq_total";
        parser
            .parse(format!("{name}: 1\nserver.uptime: 1\n").as_bytes())
            .unwrap();
        let padded = format!("{name}: {}1\nserver.uptime: 2\n", "0".repeat(20));
        let fresh = parse_stats_text(padded.as_bytes()).unwrap();
        assert_eq!(fresh.issues().len(), 1);
        assert_eq!(
            observe(&parser.parse(padded.as_bytes()).unwrap()),
            observe(&fresh)
        );
        let at_most_20 = format!("{name}: {}1\nserver.uptime: 2\n", "0".repeat(19));
        let set = parser.parse(at_most_20.as_bytes()).unwrap();
        assert_eq!(
            observe(&set),
            observe(&parse_stats_text(at_most_20.as_bytes()).unwrap())
        );
        assert!(set.issues().is_empty());
    }

    /// Every capture of one or two lines from [`NAMES`] (integers), read twice with other
    /// numbers: each result equals a fresh parse, and the second reading is a re-parse exactly
    /// when the capture has no damaged line (here: a suffix no catalog knows).
    #[test]
    fn every_small_layout_read_twice_equals_a_fresh_parse_and_clean_ones_reparse() {
        let layouts = (0..NAMES.len())
            .flat_map(|a| (0..=NAMES.len()).map(move |b| (a, b)))
            .filter(|&(a, b)| a != b);
        let mut reparsed = 0;
        for (a, b) in layouts {
            let mut parser = StatsReparser::new();
            let mut clean = true;
            for n in [5, 6] {
                let second = (b < NAMES.len()).then(|| line(b, 0, n + 1));
                let text = line(a, 0, n) + &second.unwrap_or_default();
                let fresh = parse_stats_text(text.as_bytes()).unwrap();
                clean &= fresh.issues().is_empty();
                let ours = parser.parse(text.as_bytes()).unwrap();
                assert_eq!(observe(&ours), observe(&fresh), "{text}");
            }
            assert_eq!(
                parser.counts(),
                (u64::from(clean), 2 - u64::from(clean)),
                "{a} {b}"
            );
            reparsed += u64::from(clean);
        }
        assert!(reparsed > 100, "{reparsed} of the layouts are clean");
    }

    #[test]
    fn the_skeleton_keeps_names_and_integer_values_apart() {
        let mut out = Vec::new();
        skeleton(
            b"a: 1\r\n\nb: \"x\"\nc: P0(1,2)\nno separator\nd: \n",
            &mut out,
        );
        assert_eq!(out, b"a:0\nb:-\nc:-\nno-\nd:-\n");
    }
}
