//! Envoy's `/stats?format=json` output: `{"stats": [{"name", "value"}, …, {"histograms": …}]}`.
//!
//! Histograms come as quantile summaries (`supported_quantiles` + `computed_quantiles`, the
//! default), as bucket lists (`histogram_buckets=cumulative|disjoint`), or as `details` with
//! `percentiles` (`histogram_buckets=detailed`). JSON has no useful line numbers once parsed,
//! so damaged entries are reported as `stats[i]` with line 0.

use serde_json::Value;

use super::error::{ParseError, require_text};
use super::stat::{Bucket, Histogram, Quantile};
use super::stat_name;
use super::stats_set::{StatsFormat, StatsSet};

/// Parses a JSON `/stats` capture into a new [`StatsSet`].
pub fn parse_stats_json(input: &[u8]) -> Result<StatsSet, ParseError> {
    let text = require_text(input, "/stats capture")?;
    let doc: Value = serde_json::from_str(text).map_err(|e| ParseError::from_json(&e))?;
    let Some(entries) = doc.get("stats").and_then(Value::as_array) else {
        return Err(ParseError::syntax(
            1,
            1,
            "JSON without a top-level \"stats\" array; not a /stats?format=json capture",
        ));
    };
    let mut set = StatsSet::new(StatsFormat::Json);
    for (i, entry) in entries.iter().enumerate() {
        if let Err(reason) = read_entry(entry, &mut set) {
            set.push_issue(0, format!("stats[{i}]: {reason}"));
        }
    }
    set.repair_scope_splits();
    Ok(set)
}

fn read_entry(entry: &Value, set: &mut StatsSet) -> Result<(), String> {
    if let Some(h) = entry.get("histograms") {
        return read_histograms(h, set);
    }
    let name = entry
        .get("name")
        .and_then(Value::as_str)
        .ok_or("entry without a \"name\"")?;
    let value = entry
        .get("value")
        .ok_or_else(|| format!("`{name}` has no \"value\""))?;
    let (table, stat) = stat_name::table_for(set, name, 0);
    match value {
        Value::String(text) => table.set_text(stat, text),
        Value::Number(n) => match n.as_u64() {
            Some(v) => table.set_int(stat, v),
            None => return Err(format!("`{name}` has a non-integer value {n}")),
        },
        other => return Err(format!("`{name}` has an unexpected value {other}")),
    }
    set.stat_count += 1;
    Ok(())
}

fn read_histograms(h: &Value, set: &mut StatsSet) -> Result<(), String> {
    if let Some(list) = h.as_array() {
        return list
            .iter()
            .try_for_each(|item| read_bucket_histogram(item, set));
    }
    if let Some(computed) = h.get("computed_quantiles").and_then(Value::as_array) {
        let supported = percentiles(h.get("supported_quantiles"))?;
        return computed
            .iter()
            .try_for_each(|item| read_summary(item, "values", &supported, set));
    }
    if let Some(details) = h.get("details").and_then(Value::as_array) {
        let supported = percentiles(h.get("supported_percentiles"))?;
        return details
            .iter()
            .try_for_each(|item| read_summary(item, "percentiles", &supported, set));
    }
    Err("\"histograms\" in an unknown shape".to_string())
}

fn percentiles(v: Option<&Value>) -> Result<Vec<f64>, String> {
    let list = v
        .and_then(Value::as_array)
        .ok_or("histograms without supported quantiles")?;
    list.iter()
        .map(|q| q.as_f64().ok_or_else(|| format!("bad quantile {q}")))
        .collect()
}

fn read_summary(
    item: &Value,
    key: &str,
    supported: &[f64],
    set: &mut StatsSet,
) -> Result<(), String> {
    let name = item
        .get("name")
        .and_then(Value::as_str)
        .ok_or("histogram without a name")?;
    let values = item.get(key).and_then(Value::as_array);
    let mut scratch = Histogram::default();
    for (q, v) in supported.iter().zip(values.into_iter().flatten()) {
        scratch.quantiles.push(Quantile {
            percentile: *q,
            interval: v.get("interval").and_then(Value::as_f64),
            cumulative: v.get("cumulative").and_then(Value::as_f64),
        });
    }
    let (table, stat) = stat_name::table_for(set, name, 0);
    table
        .histogram_mut(stat)
        .quantiles
        .extend_from_slice(&scratch.quantiles);
    set.stat_count += 1;
    Ok(())
}

fn read_bucket_histogram(item: &Value, set: &mut StatsSet) -> Result<(), String> {
    let name = item
        .get("name")
        .and_then(Value::as_str)
        .ok_or("histogram without a name")?;
    let buckets = item
        .get("buckets")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("`{name}` without buckets"))?;
    let mut scratch = Vec::with_capacity(buckets.len());
    for b in buckets {
        let le = b
            .get("upper_bound")
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("`{name}` bucket without upper_bound"))?;
        let count = b.get("cumulative").and_then(Value::as_u64).unwrap_or(0);
        scratch.push(Bucket { le, count });
    }
    let (table, stat) = stat_name::table_for(set, name, 0);
    table
        .histogram_mut(stat)
        .buckets
        .extend_from_slice(&scratch);
    set.stat_count += 1;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envoy::StatValue;

    #[test]
    fn counters_text_and_summary_histograms() {
        let json = r#"{"stats":[
            {"name":"cluster.outbound|80||a.b.svc.cluster.local.upstream_rq_timeout","value":3},
            {"name":"cluster.outbound|80||a.b.svc.cluster.local.version_text","value":"v7"},
            {"name":"cluster_manager.cds.version","value":11549674845441926298},
            {"histograms":{"supported_quantiles":[0,50,99,100],"computed_quantiles":[
                {"name":"cluster.outbound|80||a.b.svc.cluster.local.upstream_rq_time",
                 "values":[{"interval":null,"cumulative":1},{"interval":2,"cumulative":3},
                           {"interval":null,"cumulative":1400},{"interval":null,"cumulative":1500}]}]}}
        ]}"#;
        let set = parse_stats_json(json.as_bytes()).unwrap();
        let c = set.cluster("outbound|80||a.b.svc.cluster.local").unwrap();
        assert_eq!(c.int("upstream_rq_timeout"), Some(3));
        assert_eq!(c.get("version_text"), Some(&StatValue::Text("v7".into())));
        let h = c.histogram("upstream_rq_time").unwrap();
        assert_eq!(h.cumulative(99.0), Some(1400.0));
        assert_eq!(h.interval(50.0), Some(2.0));
        assert_eq!(
            set.other().get("cluster_manager.cds.version"),
            Some(&StatValue::Int(11549674845441926298))
        );
        assert_eq!(set.stat_count, 4);
        assert!(set.issues().is_empty());
    }

    #[test]
    fn bucket_histograms_and_bad_entries() {
        let json = r#"{"stats":[
            {"name":"cluster.x.upstream_rq_total","value":1.5},
            {"value":2},
            {"histograms":[{"name":"cluster.x.upstream_rq_time","buckets":[
                {"upper_bound":1,"interval":0,"cumulative":2},{"upper_bound":5,"interval":1,"cumulative":9}]}]}
        ]}"#;
        let set = parse_stats_json(json.as_bytes()).unwrap();
        let h = set
            .cluster("x")
            .unwrap()
            .histogram("upstream_rq_time")
            .unwrap();
        assert_eq!(
            h.buckets,
            vec![Bucket { le: 1.0, count: 2 }, Bucket { le: 5.0, count: 9 }]
        );
        let msgs: Vec<&str> = set.issues().iter().map(|i| i.message.as_str()).collect();
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert!(
            msgs[0].starts_with("stats[0]: `cluster.x.upstream_rq_total` has a non-integer value")
        );
        assert!(msgs[1].starts_with("stats[1]: entry without a \"name\""));
    }

    #[test]
    fn not_stats_json_is_fatal_with_position() {
        let err = parse_stats_json(b"{\"configs\": []}").unwrap_err();
        assert!(
            err.to_string().contains("not a /stats?format=json capture"),
            "{err}"
        );
        let err = parse_stats_json(b"{\n\"stats\": [\n  {\"name\": }\n]}").unwrap_err();
        assert_eq!(err.line(), 3);
    }
}
