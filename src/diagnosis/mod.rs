//! Root-cause hints: [`evaluate`] turns a [`MeshSnapshot`] into [`Finding`]s — what the numbers
//! mean, which Istio setting is implicated (value and source object), and how to verify it.
//! One file per rule of `HINTS.md` under `rules/`.
//!
//! Pure: reads only the snapshot and the [`Thresholds`]; no I/O, no clock. Evidence
//! discipline: rules fire on window deltas and rates, never on lifetime totals; an absent stat
//! is *not collected* (R0 says how to enable it), never 0; one signal alone gives a lower
//! severity than a response flag + the matching counter + the matching config value
//! ([`Context::grade`]).
//!
//! ## How to add a rule
//! 1. Copy a small rule file in `rules/` (e.g. `r15_ejection_overflow.rs`) to
//!    `rules/rNN_short_name.rs`: a `pub const RULE: Rule` with the id from `HINTS.md` and a
//!    `check(&Context) -> Vec<Finding>` that reads the snapshot through [`Context`]
//!    (`moved`, `flagged`, `config_evidence`, `istioctl_pc`, …).
//! 2. Add `mod rNN_short_name;` and `rNN_short_name::RULE` to the list in `rules/mod.rs`.
//! 3. Put any number it compares against in [`Thresholds`] with the reason for its default.
//! 4. Test it in the same file with the `testkit` builder: one snapshot where it fires (assert
//!    severity, title, evidence and the filled-in command) and one where it stays quiet.

mod context;
mod evidence;
mod finding;
mod render;
mod rules;
mod steps;
#[cfg(test)]
pub(crate) mod testkit;
mod thresholds;

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

pub use context::{Context, Reporter, workload_of, workloads};
pub use evidence::human_ms;
pub use finding::{Evidence, EvidenceKind, Finding, NextStep, Severity};
pub use render::{render_findings, summary_line};
pub use rules::{RULES, Rule};
pub use thresholds::Thresholds;

use crate::model::MeshSnapshot;

/// Every rule's findings with the default thresholds, sorted: most severe first, then by
/// cluster (mesh- and pod-wide findings last), then by rule number.
pub fn evaluate(snap: &MeshSnapshot) -> Vec<Finding> {
    evaluate_with(snap, &Thresholds::default())
}

/// [`evaluate`] with tuned thresholds.
pub fn evaluate_with(snap: &MeshSnapshot, thresholds: &Thresholds) -> Vec<Finding> {
    evaluate_with_worst(snap, thresholds).0
}

/// The worst severity of each cluster's findings, by Envoy cluster name.
pub type WorstByCluster = FxHashMap<String, Severity>;

/// [`evaluate_with`], and the worst severity of each cluster's findings, taken while the
/// findings are merged: the names are at hand then, while reading them back from thousands
/// of finished findings means fetching each from memory again (the overview's default sort
/// needs it on every rebuild).
pub fn evaluate_with_worst(
    snap: &MeshSnapshot,
    thresholds: &Thresholds,
) -> (Vec<Finding>, WorstByCluster) {
    let ctx = Context::new(snap, thresholds);
    let found = RULES.iter().flat_map(|rule| (rule.check)(&ctx)).collect();
    let mut worst = WorstByCluster::default();
    let mut findings = merge_duplicates(found, &mut worst);
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.cluster.is_none().cmp(&b.cluster.is_none()))
            .then_with(|| a.target.cmp(&b.target))
            .then_with(|| a.rule_number().cmp(&b.rule_number()))
            .then_with(|| a.title.cmp(&b.title))
    });
    (findings, worst)
}

/// The worst severity of each cluster's findings in `findings`.
pub fn worst_by_cluster(findings: &[Finding]) -> WorstByCluster {
    let mut worst = WorstByCluster::default();
    for f in findings {
        note_worst(&mut worst, f);
    }
    worst
}

fn note_worst(worst: &mut WorstByCluster, f: &Finding) {
    let Some(cluster) = f.cluster.as_deref() else {
        return;
    };
    match worst.get_mut(cluster) {
        Some(w) => *w = (*w).max(f.severity),
        None => {
            worst.insert(cluster.to_string(), f.severity);
        }
    }
}

/// One finding per (rule, cluster, target, title): the same problem reported for several
/// pods becomes one finding listing them all, at the highest severity seen.
/// Notes each cluster's worst severity in `worst` on the way.
fn merge_duplicates(found: Vec<Finding>, worst: &mut WorstByCluster) -> Vec<Finding> {
    let mut merged: BTreeMap<(String, Option<String>, String, String), Finding> = BTreeMap::new();
    for f in found {
        note_worst(worst, &f);
        let key = (
            f.rule.clone(),
            f.cluster.clone(),
            f.target.clone(),
            f.title.clone(),
        );
        match merged.get_mut(&key) {
            Some(existing) => {
                existing.severity = existing.severity.max(f.severity);
                for pod in f.pods {
                    if !existing.pods.contains(&pod) {
                        existing.pods.push(pod);
                    }
                }
                existing.pods.sort();
            }
            None => {
                merged.insert(key, f);
            }
        }
    }
    merged.into_values().collect()
}

/// The exit code of `meshtop check`: 0 without warnings or criticals, 1 for warnings, 2 for
/// a critical finding.
pub fn exit_code(findings: &[Finding]) -> i32 {
    match findings.iter().map(|f| f.severity).max() {
        Some(Severity::Critical) => 2,
        Some(Severity::Warning) => 1,
        Some(Severity::Info) | None => 0,
    }
}
