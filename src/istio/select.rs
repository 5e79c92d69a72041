//! Choosing the DestinationRule(s) for a cluster host and a client namespace (istiod's
//! `PushContext.destinationRule`), and explaining the rules that name the host but lose.
//!
//! Precedence — the first namespace with a matching rule wins; within it the most specific
//! host (exact beats wildcard, longer wildcard beats shorter):
//! 1. the client namespace (all its rules, whatever their `exportTo`); when the client is in
//!    the root namespace, only the root namespace's private (`exportTo: ["."]`) rules;
//! 2. the service namespace (from the `*.svc.<domain>` host; unknown for ServiceEntry hosts),
//!    rules exported to the client and without `workloadSelector`;
//! 3. the root namespace (`istio-system` by default), likewise.
//!
//! Several rules with that same host in the chosen namespace are merged as istiod does: subsets
//! are combined (first definition wins) and the top-level `trafficPolicy` is the first one
//! present. Istio orders by creation time; files carry none, so input order stands in for age
//! and a note says so.

use super::destination_rule::{DestinationRule, Subset};
use super::host::{HostMatch, is_exported_to, is_private, match_host, resolve_host};
use super::load::Object;
use super::resolve::Scope;
use super::source::Kind;

/// Where a DestinationRule is looked for, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Client,
    Service,
    Root,
}

const STEPS: [Step; 3] = [Step::Client, Step::Service, Step::Root];

type Rules<'a> = Vec<&'a Object<DestinationRule>>;

impl<'a> Scope<'a> {
    fn namespace_of(&self, step: Step) -> Option<&'a str> {
        match step {
            Step::Client => Some(self.client),
            Step::Service => self.c.namespace.as_deref(),
            Step::Root => Some(self.opts.root_namespace.as_str()),
        }
    }

    /// Whether a rule in the step's namespace takes part in that step.
    fn admits(&self, step: Step, rule: &Object<DestinationRule>) -> bool {
        let private = is_private(&rule.spec.export_to, &rule.namespace);
        match step {
            Step::Client if self.client == self.opts.root_namespace => private,
            Step::Client => true,
            Step::Service | Step::Root => {
                !private
                    && rule.spec.workload_selector.is_none()
                    && is_exported_to(&rule.spec.export_to, &rule.namespace, self.client)
            }
        }
    }

    /// How `host` (written in an object of `namespace`) matches the cluster host.
    pub(super) fn host_match(&self, host: &str, namespace: &str) -> Option<HostMatch> {
        let domain = &self.opts.cluster_domain;
        match_host(&resolve_host(host, namespace, domain), &self.c.host, domain)
    }

    /// The rules in effect (merged, oldest first), with notes on the choice and on the losers.
    pub(super) fn choose_rules(&self, notes: &mut Vec<String>) -> Rules<'a> {
        let chosen = self.select_rules();
        let rules: &[&Object<DestinationRule>] = chosen.as_ref().map_or(&[], |(_, r)| r);
        self.explain_other_rules(rules, notes);
        match chosen {
            Some((step, rules)) => self.describe_choice(step, rules, notes),
            None => Vec::new(),
        }
    }

    /// The rules of the first step with an applied match, all with the most specific host.
    fn select_rules(&self) -> Option<(Step, Rules<'a>)> {
        STEPS.into_iter().find_map(|step| {
            let ns = self.namespace_of(step)?;
            let host_of = |r: &Object<DestinationRule>| {
                resolve_host(&r.spec.host, ns, &self.opts.cluster_domain)
            };
            let scored: Vec<_> = (self.config.destination_rules.iter())
                .filter(|r| r.namespace == ns && self.admits(step, r))
                .filter_map(|r| Some((self.host_match(&r.spec.host, ns)?, r)))
                .filter(|(m, _)| m.is_applied())
                .collect();
            let best = scored.iter().map(|(m, _)| *m).max()?;
            let best_host = host_of(scored.iter().find(|(m, _)| *m == best)?.1);
            let rules = scored.into_iter().map(|(_, r)| r);
            Some((step, rules.filter(|r| host_of(r) == best_host).collect()))
        })
    }

    fn describe_choice(&self, step: Step, rules: Rules<'a>, notes: &mut Vec<String>) -> Rules<'a> {
        let Some(first) = rules.first() else {
            return rules;
        };
        let place = match step {
            Step::Client => "the client namespace",
            Step::Service => "the service namespace",
            Step::Root => "the root namespace",
        };
        let r = first.object_ref(Kind::DestinationRule);
        let (host, ns) = (&first.spec.host, &first.namespace);
        notes.push(format!(
            "{r} (host `{host}`) applies: found in {place} {ns}"
        ));
        if rules.len() > 1 {
            let names: Vec<&str> = rules.iter().map(|o| o.name.as_str()).collect();
            notes.push(format!(
                "{} DestinationRules in {ns} share this host ({}): Istio merges them — subsets \
                 are combined, the oldest top-level trafficPolicy wins; meshtop takes input \
                 order as age",
                rules.len(),
                names.join(", ")
            ));
        }
        if let Some(sel) = &first.spec.workload_selector {
            notes.push(format!(
                "{r} has a workloadSelector {:?}: it applies only to matching pods in {ns}; \
                 meshtop does not check the client's labels",
                sel.match_labels
            ));
        }
        rules
    }

    /// Notes for rules that name this host but are not in effect, and for "no rule at all".
    fn explain_other_rules(&self, chosen: &[&Object<DestinationRule>], notes: &mut Vec<String>) {
        for rule in &self.config.destination_rules {
            let Some(m) = self.host_match(&rule.spec.host, &rule.namespace) else {
                continue;
            };
            if !chosen.iter().any(|c| std::ptr::eq(*c, rule)) {
                notes.push(self.why_not(rule, m));
            }
        }
        if chosen.is_empty() {
            notes.push(format!(
                "no DestinationRule visible to namespace {} applies to {}: Istio defaults",
                self.client, self.c.host
            ));
        }
    }

    fn why_not(&self, rule: &Object<DestinationRule>, m: HostMatch) -> String {
        let r = rule.object_ref(Kind::DestinationRule);
        let (host, client, ns) = (&self.c.host, self.client, &rule.namespace);
        let searched: Vec<Step> = STEPS
            .into_iter()
            .filter(|s| self.namespace_of(*s) == Some(ns.as_str()))
            .collect();
        if !m.is_applied() {
            format!(
                "{r} host `{}` is not expanded by Istio (only names without dots are), so it \
                 does not apply to {host}: use the FQDN",
                rule.spec.host
            )
        } else if searched.is_empty() {
            format!(
                "{r} matches {host} but Istio does not look in namespace {ns} for clients in \
                 {client} (only the client, service and root namespaces)"
            )
        } else if !searched.iter().any(|s| self.admits(*s, rule)) {
            let selector = rule
                .spec
                .workload_selector
                .as_ref()
                .map_or("", |_| ", workloadSelector");
            let export = &rule.spec.export_to;
            format!(
                "{r} matches {host} but is not visible to namespace {client} (exportTo {export:?}{selector})"
            )
        } else {
            format!(
                "{r} also matches {host} but is shadowed: Istio applies one DestinationRule per \
                 host, with no merging across namespaces or hosts"
            )
        }
    }

    /// The subset of a subset cluster, from the first merged rule defining it.
    pub(super) fn find_subset(
        &self,
        rules: &[&'a Object<DestinationRule>],
        notes: &mut Vec<String>,
    ) -> Option<(&'a Object<DestinationRule>, &'a Subset)> {
        if self.c.subset.is_empty() {
            return None;
        }
        let found = (rules.iter()).find_map(|r| r.spec.subset(&self.c.subset).map(|s| (*r, s)));
        if found.is_none() {
            notes.push(format!(
                "cluster subset `{}` is not defined by any DestinationRule visible to namespace \
                 {} (IST0101): top-level policy and defaults shown",
                self.c.subset, self.client
            ));
        }
        found
    }
}
