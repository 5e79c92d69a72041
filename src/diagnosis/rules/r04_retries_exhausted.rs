//! R4: retries exhausted (HINTS.md R4). Flag URX on the client and/or
//! Δ`upstream_rq_retry_limit_exceeded`: the underlying failure is persistent, so every retry
//! failed too. The finding names the companion flags of the URX responses (UF, UC, UO, …) and
//! the rule that explains each, because that is where the cause is.

use super::Rule;
use crate::diagnosis::{Context, Evidence, Finding, NextStep, Reporter};
use crate::model::{ClusterSnapshot, RequestWindow};

pub const RULE: Rule = Rule {
    id: "R4",
    name: "Retries exhausted",
    check,
};

/// The rule that explains the failure behind a companion flag.
fn rule_for(flag: &str) -> Option<&'static str> {
    Some(match flag {
        "UF" => "R8/R9 (connect timeout or failure; R10 for TLS)",
        "UC" => "R11 (upstream closed a kept-alive connection)",
        "UO" => "R6/R7 (circuit breaker overflow)",
        "UH" => "R16/R17 (no healthy upstream)",
        "UR" | "UPE" => "R12 (upstream reset)",
        "UT" => "R1/R3 (route or per-try timeout)",
        "LR" => "R13 (local reset)",
        _ => return None,
    })
}

/// The URX series' other flags and response codes: `(flags, codes)`, sorted, deduplicated.
fn companions(series: &[RequestWindow]) -> (Vec<String>, Vec<String>) {
    let urx = series
        .iter()
        .filter(|r| r.has_flag("URX") && r.window.increase > 0);
    let (mut flags, mut codes) = (Vec::new(), Vec::new());
    for r in urx {
        codes.push(r.response_code.clone());
        let others = r
            .response_flags
            .split(',')
            .filter(|f| *f != "URX" && *f != "-");
        flags.extend(others.map(String::from));
    }
    for v in [&mut flags, &mut codes] {
        v.sort();
        v.dedup();
    }
    (flags, codes)
}

fn check(ctx: &Context<'_>) -> Vec<Finding> {
    ctx.upstreams().filter_map(|c| finding(ctx, c)).collect()
}

fn finding(ctx: &Context<'_>, c: &ClusterSnapshot) -> Option<Finding> {
    let urx = ctx.flagged(c, Reporter::Client, "URX");
    let exceeded = ctx.moved(c, "upstream_rq_retry_limit_exceeded");
    let failed = urx.max(exceeded)?;
    let retries = c.config.as_ref().map(|cfg| cfg.retry_attempts);
    let signals = [
        urx.is_some(),
        exceeded.is_some(),
        retries.is_some_and(|n| n > 0),
    ];
    let signals = signals.into_iter().filter(|s| *s).count();
    let severity = ctx.grade(ctx.share_severity(c, failed), signals, 3);
    let (flags, codes) = companions(ctx.series(c, Reporter::Client));
    let mut f = ctx.cluster_finding(RULE.id, severity, c);
    let (pods, scope) = ctx.moved_pods(c, &["upstream_rq_retry_limit_exceeded"]);
    f.pods = pods;
    f.scope = scope;
    let after = retries.map_or(String::from("retries"), |n| format!("{n} retries"));
    let with = match (flags.is_empty(), codes.is_empty()) {
        (true, true) => String::new(),
        _ => format!(
            " (URX with {})",
            [flags.join(", "), codes.join("/")].join(" ").trim()
        ),
    };
    f.title = format!(
        "{}: {failed} calls failed after exhausting {after}{with}",
        c.label
    );
    f.evidence = evidence(ctx, c, urx.is_some());
    f.cause = cause(&flags);
    f.next_steps = next_steps(ctx, c, &f.pods);
    Some(f)
}

fn evidence(ctx: &Context<'_>, c: &ClusterSnapshot, urx: bool) -> Vec<Evidence> {
    let flag = urx
        .then(|| ctx.flag_evidence(c, Reporter::Client, "URX"))
        .flatten();
    [
        flag,
        ctx.counter_evidence(c, "upstream_rq_retry_limit_exceeded"),
        ctx.counter_evidence(c, "upstream_rq_retry"),
        ctx.config_evidence(c, "retry_attempts"),
        ctx.config_evidence(c, "retry_on"),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn cause(flags: &[String]) -> String {
    let explained: Vec<String> = flags
        .iter()
        .filter_map(|f| rule_for(f).map(|r| format!("{f} → {r}")))
        .collect();
    let look = match explained.is_empty() {
        true => String::from(
            "The response flags do not say which failure was retried; the client access log \
             (%RESPONSE_FLAGS%, %UPSTREAM_REQUEST_ATTEMPT_COUNT%) does.",
        ),
        false => format!("Look at the companion flag: {}.", explained.join("; ")),
    };
    format!(
        "Retries exhausted (URX): the first try and every retry failed, so the failure is \
         persistent — more retries will not help and add load. Retries come from the \
         VirtualService retries (attempts, retryOn) or Istio's default (2 attempts on \
         connect-failure, refused-stream, unavailable, cancelled, retriable-status-codes). {look}"
    )
}

fn next_steps(ctx: &Context<'_>, c: &ClusterSnapshot, pods: &[String]) -> Vec<NextStep> {
    let pod = pods.first().cloned().unwrap_or_else(|| ctx.client_pod(c));
    let ns = ctx.namespace_of(&pod);
    let service = ctx.service_of(c).0;
    let port = c
        .key
        .istio()
        .map_or(String::from("<port>"), |k| k.port.to_string());
    vec![
        NextStep::run(
            "Find the underlying failure in the client access log (flags, attempt count)",
            format!(
                "kubectl logs -n {ns} {pod} -c istio-proxy --since=10m | grep URX | grep {service}"
            ),
        ),
        NextStep::run(
            "Check the retry_policy Envoy runs with (num_retries, retry_on)",
            ctx.istioctl_pc_on(&pod, c, "route", &format!("--name {port} -o json")),
        ),
        NextStep::run(
            "Check the endpoints the retries went to",
            ctx.istioctl_pc_on(&pod, c, "endpoint", "--cluster '{cluster}'"),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::testkit::*;
    use crate::diagnosis::{Severity, Thresholds};

    const VS: &str = "apiVersion: networking.istio.io/v1\nkind: VirtualService\n\
        metadata: {name: inventory-svc, namespace: prod}\nspec:\n  hosts: [inventory-svc]\n  http:\n\
        \x20 - route: [{destination: {host: inventory-svc}}]\n\
        \x20   retries: {attempts: 2, retryOn: connect-failure}\n";

    fn run(snap: &crate::model::MeshSnapshot) -> Vec<Finding> {
        check(&Context::new(snap, &Thresholds::default()))
    }

    #[test]
    fn fires_with_the_companion_flag_and_its_rule() {
        let snap = SnapBuilder::new()
            .istio(VS)
            .cluster(INV, |c| {
                c.counter("upstream_rq_total", 900)
                    .counter("upstream_rq_retry_limit_exceeded", 20)
                    .counter("upstream_rq_retry", 40)
                    .flag("503", "UF,URX", 20)
                    .flag("200", "-", 880)
            })
            .build();
        let found = run(&snap);
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(
            f.title,
            "inventory-svc.prod:8080: 20 calls failed after exhausting 2 retries (URX with UF 503)"
        );
        assert_eq!(f.evidence[0].name, "URX (503, reporter=source)");
        assert_eq!(f.evidence[0].number, Some(20.0));
        let attempts = &f.evidence[3];
        assert_eq!(
            (attempts.name.as_str(), attempts.value.as_str()),
            (
                "VirtualService prod/inventory-svc http[0].retries.attempts",
                "2"
            )
        );
        assert!(f.cause.contains("UF → R8/R9"), "{}", f.cause);
        assert_eq!(
            f.next_steps[2].command.as_deref(),
            Some(
                "istioctl proxy-config endpoint order-svc-7d9f8c-a1b2c.prod --cluster \
                 'outbound|8080||inventory-svc.prod.svc.cluster.local'"
            )
        );
    }

    #[test]
    fn the_counter_alone_is_lowered_and_zero_is_quiet() {
        let alone = SnapBuilder::new()
            .cluster(INV, |c| {
                c.counter("upstream_rq_total", 1000)
                    .counter("upstream_rq_retry_limit_exceeded", 2)
            })
            .build();
        let found = run(&alone);
        assert_eq!(found.len(), 1);
        // 0.2 % of calls: a warning, lowered for a single signal.
        assert_eq!(found[0].severity, Severity::Info);
        assert_eq!(
            found[0].title,
            "inventory-svc.prod:8080: 2 calls failed after exhausting retries"
        );
        let zero = SnapBuilder::new()
            .istio(VS)
            .cluster(INV, |c| {
                c.counter("upstream_rq_retry_limit_exceeded", 0)
                    .flag("200", "-", 100)
            })
            .build();
        assert!(run(&zero).is_empty());
    }
}
