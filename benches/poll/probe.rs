//! What one poll moves and costs on a sample of pods (filtered vs unfiltered `/stats`,
//! `/clusters`, render and parse time), the by-hand `kubectl get --raw` loop, and this
//! process's memory.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use meshtop::collect::default_stats_filter;
use meshtop::envoy::clusters::parse_clusters_json;
use meshtop::envoy::stats_text::parse_stats_text;
use meshtop::kube::{AdminConnection, AdminLimits, AdminPath, MeshPod};
use meshtop::sim::envoy::respond_to_path;
use meshtop::sim::server::SharedSimulation;
use serde_json::{Value, json};

use crate::cycles::secs;

/// Pods whose unfiltered `/stats` is read for the bytes comparison.
const BYTES_SAMPLE: usize = 50;

/// Per sampled pod: body sizes and the CPU time to make (simulator) and parse (meshtop) them.
#[derive(Default)]
struct ByteSample {
    filtered: usize,
    clusters: usize,
    unfiltered: usize,
    sim_render: Duration,
    stats_parse: Duration,
    clusters_parse: Duration,
}

/// Reads the filtered `/stats`, `/clusters?format=json` and the unfiltered `/stats` through a
/// fresh port-forward for up to [`BYTES_SAMPLE`] pods spread over the list, and times, on
/// the same pods, the simulator rendering and meshtop parsing one poll's two bodies.
pub async fn measure_bytes(
    client: &kube::Client,
    pods: &[MeshPod],
    sim: &SharedSimulation,
) -> Value {
    let n = pods.len().min(BYTES_SAMPLE);
    let mut sum = ByteSample::default();
    for i in 0..n {
        let pod = &pods[i * pods.len() / n];
        let one = sample_pod(client, pod, sim).await;
        sum.filtered += one.filtered;
        sum.clusters += one.clusters;
        sum.unfiltered += one.unfiltered;
        sum.sim_render += one.sim_render;
        sum.stats_parse += one.stats_parse;
        sum.clusters_parse += one.clusters_parse;
    }
    let per = |total: usize| total as f64 / n.max(1) as f64;
    let ms = |total: Duration| total.as_secs_f64() * 1e3 / n.max(1) as f64;
    let (stats, clusters, all) = (per(sum.filtered), per(sum.clusters), per(sum.unfiltered));
    json!({
        "sampled": n, "filtered_stats": stats, "clusters_json": clusters,
        "unfiltered_stats": all, "stats_ratio": stats / all,
        "poll_ratio": (stats + clusters) / all,
        "sim_render_ms": ms(sum.sim_render), "stats_parse_ms": ms(sum.stats_parse),
        "clusters_parse_ms": ms(sum.clusters_parse),
    })
}

async fn sample_pod(client: &kube::Client, pod: &MeshPod, sim: &SharedSimulation) -> ByteSample {
    let filtered = AdminPath::filtered_stats(&default_stats_filter());
    let clusters = AdminPath::Clusters { json: true };
    let unfiltered = AdminPath::Stats {
        used_only: false,
        filter: None,
    };
    let limits = AdminLimits::default();
    let (ns, name) = (&pod.namespace, &pod.name);
    let mut conn = AdminConnection::new(client.clone(), ns, name, pod.admin_port, limits);
    let mut get = async |path: &AdminPath| conn.get(path).await.expect("admin GET");
    let (stats_body, clusters_body) = (get(&filtered).await, get(&clusters).await);
    let unfiltered_len = get(&unfiltered).await.len();
    conn.close().await;

    let begun = Instant::now();
    let proxy = sim
        .lock()
        .expect("sim lock")
        .proxy(ns, name)
        .expect("proxy up");
    let rendered = [&filtered, &clusters].map(|p| respond_to_path(&proxy, &p.to_uri()).body.len());
    let sim_render = begun.elapsed();
    assert_eq!(rendered, [stats_body.len(), clusters_body.len()]);

    let begun = Instant::now();
    let stats = parse_stats_text(&stats_body).expect("filtered /stats parses");
    let stats_parse = begun.elapsed();
    let begun = Instant::now();
    let text = std::str::from_utf8(&clusters_body).expect("/clusters is UTF-8");
    let dump = parse_clusters_json(text).expect("/clusters parses");
    let clusters_parse = begun.elapsed();
    std::hint::black_box((stats, dump));
    ByteSample {
        filtered: stats_body.len(),
        clusters: clusters_body.len(),
        unfiltered: unfiltered_len,
        sim_render,
        stats_parse,
        clusters_parse,
    }
}

/// `kubectl get --raw …/proxy/stats` for every pod, one after the other like a shell loop.
pub async fn time_kubectl(dir: &Path, pods: &[MeshPod]) -> Value {
    let present = Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output();
    let version = match present {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        _ => {
            println!("kubectl: skipped (kubectl not on PATH)");
            return Value::Null;
        }
    };
    let version = version.lines().next().unwrap_or("").to_string();
    // One untimed call so the 57 MB binary is in the page cache, as on a warm laptop.
    let _ = kubectl_raw(dir, &pods[0]).await;
    let begun = Instant::now();
    let (mut bytes, mut failed) = (0usize, 0usize);
    for pod in pods {
        match kubectl_raw(dir, pod).await {
            Some(n) => bytes += n,
            None => failed += 1,
        }
    }
    let total = secs(begun.elapsed());
    println!(
        "kubectl loop: {} pods in {total:.2}s ({version})",
        pods.len()
    );
    json!({"total_s": total, "per_pod_s": total / pods.len() as f64, "bytes": bytes,
           "failed": failed, "version": version})
}

/// One `kubectl get --raw` of the pod's unfiltered `/stats`; the body size, `None` on failure.
async fn kubectl_raw(dir: &Path, pod: &MeshPod) -> Option<usize> {
    let raw = format!(
        "/api/v1/namespaces/{}/pods/{}:{}/proxy/stats",
        pod.namespace, pod.name, pod.admin_port
    );
    let out = tokio::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(dir.join("config"))
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .args(["get", "--raw", &raw])
        .env("HOME", dir)
        .output()
        .await
        .ok()?;
    out.status.success().then_some(out.stdout.len())
}

/// (`VmRSS`, `VmHWM`) of this process in KiB, from `/proc/self/status` (0 when unreadable).
pub fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        (status.lines())
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
