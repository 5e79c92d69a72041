//! R19: requests with no route (HINTS.md R19): the client sidecar answered `404 NR` (no route
//! or virtual host matched the Host header) or `503 NC` (the route points to a cluster that
//! does not exist — typically a VirtualService subset no DestinationRule defines). Only the
//! response flags (reporter=source) carry this: Envoy counts no cluster stat for a request it
//! could not route. Resolution notes naming the cause (IST0101, exportTo, gateways) are quoted
//! as config evidence.

use super::Rule;
use crate::diagnosis::{Context, Evidence, EvidenceKind, Finding, NextStep, Reporter};
use crate::model::ClusterSnapshot;

pub const RULE: Rule = Rule {
    id: "R19",
    name: "No route / no cluster",
    check,
};

/// A flag, what it means in a title, and the note fragments that explain it.
struct NoRoute {
    flag: &'static str,
    code: &'static str,
    meaning: &'static str,
    notes: &'static [&'static str],
}

const KINDS: [NoRoute; 2] = [
    NoRoute {
        flag: "NR",
        code: "404",
        meaning: "no route matched the Host header",
        notes: &[
            "not exported",
            "bound only to gateways",
            "lists the host as",
        ],
    },
    NoRoute {
        flag: "NC",
        code: "503",
        meaning: "the route points to a cluster that does not exist",
        notes: &["(IST0101)"],
    },
];

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in ctx.upstreams() {
        for kind in &KINDS {
            out.extend(finding(ctx, c, kind));
        }
    }
    out
}

fn finding(ctx: &Context<'_>, c: &ClusterSnapshot, kind: &NoRoute) -> Option<Finding> {
    let n = ctx.flagged(c, Reporter::Client, kind.flag)?;
    let notes: Vec<&String> = (c.config.iter())
        .flat_map(|cfg| cfg.notes.iter())
        .filter(|note| kind.notes.iter().any(|frag| note.contains(frag)))
        .collect();
    let base = ctx.share_severity(c, n);
    let mut f = ctx.cluster_finding(
        RULE.id,
        ctx.grade(base, 1 + usize::from(!notes.is_empty()), 2),
        c,
    );
    let (svc, ns) = ctx.service_of(c);
    f.title = format!(
        "{svc}.{ns}: {n} requests got {} {} — {}",
        kind.code, kind.flag, kind.meaning
    );
    f.evidence
        .extend(ctx.flag_evidence(c, Reporter::Client, kind.flag));
    f.evidence.extend(notes.iter().map(|note| Evidence {
        kind: EvidenceKind::Config,
        name: "Istio config note".into(),
        value: note.to_string(),
        number: None,
        effective: None,
    }));
    f.cause = cause(kind.flag);
    f.next_steps = steps(ctx, c, kind.flag, &notes);
    Some(f)
}

fn cause(flag: &str) -> String {
    let why = match flag {
        "NR" => {
            "NR: no route or virtual host matched the request's Host header — the \
                 VirtualService hosts do not cover the name the client uses, the VirtualService \
                 is not exported to the client's namespace (exportTo) or is bound only to \
                 gateways, or a Sidecar resource hides the host (egress.hosts)"
        }
        _ => {
            "NC: the matched route sends traffic to a cluster Envoy does not have — typically a \
              VirtualService route to a subset no DestinationRule defines, or a DestinationRule \
              not visible to the client's namespace"
        }
    };
    format!(
        "{why}. istioctl analyze reports these as IST0101 (referenced host+subset not found in \
         a DestinationRule) and IST0132; Kiali as KIA1101, KIA1102, KIA1107 and KIA0005."
    )
}

/// The subset an IST0101 note names (`routes to subset `v9` of …`).
fn missing_subset<'a>(notes: &[&'a String]) -> Option<&'a str> {
    notes.iter().find_map(|n| {
        let rest = n.split_once("subset `")?.1;
        rest.split_once('`').map(|(s, _)| s)
    })
}

fn steps(ctx: &Context<'_>, c: &ClusterSnapshot, flag: &str, notes: &[&String]) -> Vec<NextStep> {
    let (_, ns) = ctx.service_of(c);
    let client_ns = ctx.namespace_of(&ctx.client_pod(c));
    let mut steps = vec![
        NextStep::run(
            "Let Istio find the broken reference (IST0101, IST0132)",
            format!("istioctl analyze -n {client_ns}"),
        ),
        ctx.route_step(c),
    ];
    match (flag, missing_subset(notes)) {
        ("NC", Some(s)) => steps.push(NextStep::run(
            format!("Confirm the client has no cluster for subset {s}"),
            ctx.istioctl_pc(c, "cluster", &format!("--fqdn {{fqdn}} --subset {s}")),
        )),
        ("NC", None) => steps.push(ctx.destination_rule_step(c)),
        _ => steps.push(NextStep::run(
            "Check the VirtualService hosts, exportTo and gateways",
            format!("kubectl get virtualservice -n {ns} -o yaml"),
        )),
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::testkit::*;
    use crate::diagnosis::{Severity, Thresholds};

    const REVIEWS: &str = "outbound|9080||reviews.prod.svc.cluster.local";
    const TYPO: &str = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\n\
        metadata: {name: reviews, namespace: prod}\nspec:\n  host: reviews\n  subsets:\n\
        \x20 - {name: v1, labels: {version: v1}}\n---\n\
        apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews, namespace: prod}\n\
        spec:\n  hosts: [reviews]\n  http:\n  - route: [{destination: {host: reviews, subset: v9}}]\n";

    fn r19(snap: &crate::model::MeshSnapshot) -> Vec<Finding> {
        let t = Thresholds::default();
        check(&Context::new(snap, &t))
    }

    #[test]
    fn nc_with_a_missing_subset_note_is_critical() {
        let snap = SnapBuilder::new()
            .istio(TYPO)
            .cluster(REVIEWS, |c| c.flag("503", "NC", 90).flag("200", "-", 10))
            .build();
        let f = r19(&snap);
        assert_eq!(f.len(), 1);
        let f = &f[0];
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(
            f.title,
            "reviews.prod: 90 requests got 503 NC — the route points to a cluster that does not exist"
        );
        assert_eq!(f.evidence[0].name, "NC (503, reporter=source)");
        assert_eq!(f.evidence[0].number, Some(90.0));
        assert!(
            f.evidence[1].value.contains("routes to subset `v9`")
                && f.evidence[1].value.contains("IST0101"),
            "{:?}",
            f.evidence
        );
        assert!(f.cause.contains("IST0132") && f.cause.contains("KIA1107"));
        let commands: Vec<&str> = f
            .next_steps
            .iter()
            .filter_map(|s| s.command.as_deref())
            .collect();
        assert_eq!(
            commands,
            vec![
                "istioctl analyze -n prod",
                "istioctl proxy-config route order-svc-7d9f8c-a1b2c.prod --name 9080 -o json",
                "istioctl proxy-config cluster order-svc-7d9f8c-a1b2c.prod --fqdn reviews.prod.svc.cluster.local --subset v9",
            ]
        );
    }

    #[test]
    fn nr_flag_alone_is_lowered() {
        let snap = SnapBuilder::new()
            .cluster(REVIEWS, |c| c.flag("404", "NR", 5).flag("200", "-", 995))
            .build();
        let f = r19(&snap);
        assert_eq!(f.len(), 1);
        // 0.5 % of the requests, one signal: warning lowered to info.
        assert_eq!(f[0].severity, Severity::Info);
        assert_eq!(
            f[0].title,
            "reviews.prod: 5 requests got 404 NR — no route matched the Host header"
        );
        assert_eq!(
            f[0].next_steps[2].command.as_deref(),
            Some("kubectl get virtualservice -n prod -o yaml")
        );
    }

    #[test]
    fn quiet_without_nr_or_nc() {
        let snap = SnapBuilder::new()
            .istio(TYPO)
            .cluster(REVIEWS, |c| {
                c.flag("200", "-", 100)
                    .flag("503", "UH", 3)
                    .server_flag("404", "NR", 4)
            })
            .build();
        assert!(r19(&snap).is_empty());
    }
}
