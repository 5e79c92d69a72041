//! The summary tables the parent process prints from the children's `RESULT` lines.

use serde_json::Value;

pub fn print_summary(results: &[Value]) {
    print_timing(results);
    print_bytes(results);
}

fn print_timing(results: &[Value]) {
    println!("\n== poll cycles, seconds (kubectl: the whole loop; ratio: loop / cycle p50) ==");
    let header = [
        "pods", "clus", "n", "p50", "p95", "max", "cold", "poll50", "poll95", "fwd", "period",
        "poll/s", "cores", "other", "cpu ms", "kubectl", "ratio",
    ];
    print_row(&header.map(String::from));
    for r in results.iter().filter(|r| !r["timing"].is_null()) {
        let (t, k) = (&r["timing"], &r["kubectl"]);
        let ratio = k["total_s"].as_f64().zip(t["p50_s"].as_f64());
        print_row(&[
            r["pods"].to_string(),
            r["clusters"].to_string(),
            t["cycles"].to_string(),
            num(&t["p50_s"], 3),
            num(&t["p95_s"], 3),
            num(&t["max_s"], 3),
            num(&t["cold_s"], 3),
            num(&t["poll_p50_s"], 3),
            num(&t["poll_p95_s"], 3),
            t["forwards_opened"].to_string(),
            num(&t["period_s"], 2),
            num(&t["polls_per_s"], 1),
            num(&t["cores"], 2),
            num(&t["others_cores"], 2),
            num(&t["cpu_ms_per_poll"], 1),
            num(&k["total_s"], 2),
            ratio.map_or("-".into(), |(a, b)| format!("{:.1}x", a / b)),
        ]);
    }
}

fn print_bytes(results: &[Value]) {
    println!("\n== bytes per poll (mean of sampled pods); CPU ms per poll; RSS MiB ==");
    let header = [
        "pods", "clus", "stats", "clusters", "poll", "unfilt", "stats%", "poll%", "sim ms",
        "stat ms", "clus ms", "simRSS", "peak", "poll",
    ];
    print_row(&header.map(String::from));
    for r in results {
        let (b, m) = (&r["bytes"], &r["rss_kib"]);
        let mib = |v: &Value| v.as_f64().map(|k| k / 1024.0);
        let peak = mib(&m["peak"]).filter(|_| !r["timing"].is_null());
        let share = peak.zip(mib(&m["sim"])).map(|(p, s)| p - s);
        print_row(&[
            r["pods"].to_string(),
            r["clusters"].to_string(),
            num(&b["filtered_stats"], 0),
            num(&b["clusters_json"], 0),
            num(&r["timing"]["poll_bytes"], 0),
            num(&b["unfiltered_stats"], 0),
            pct(&b["stats_ratio"]),
            pct(&b["poll_ratio"]),
            num(&b["sim_render_ms"], 2),
            num(&b["stats_parse_ms"], 2),
            num(&b["clusters_parse_ms"], 2),
            num(&mib(&m["sim"]).into(), 1),
            num(&peak.into(), 1),
            num(&share.into(), 1),
        ]);
    }
}

/// One table row, each cell right-aligned in 8 columns.
fn print_row(cells: &[String]) {
    let row: Vec<String> = cells.iter().map(|c| format!("{c:>8}")).collect();
    println!("{}", row.join(" "));
}

/// `v` with `places` decimals; `-` when absent.
fn num(v: &Value, places: usize) -> String {
    v.as_f64().map_or("-".into(), |x| format!("{x:.places$}"))
}

fn pct(v: &Value) -> String {
    v.as_f64()
        .map_or("-".into(), |x| format!("{:.1}%", x * 100.0))
}
