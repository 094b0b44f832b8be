//! The metrics a sweep row carries: which report value each is, how it is read, and how a
//! row writes them.
//!
//! A row writes its metrics as a JSON object keyed by metric name, so a results file stays
//! readable when the list changes: a name tilesim no longer knows is ignored and one the file
//! lacks reads as null. Rows written before the object form carry a bare array in the order
//! of [`METRICS_BEFORE_NAMES`], and are read in that order.

use serde::de::{Deserializer, Error as _};
use serde::ser::{SerializeMap, Serializer};
use serde_json::Value;

/// The metrics every row carries, with the report key each comes from: a JSON pointer whose
/// segments may select an array element by a field (`name[field=value]`, see
/// [`metric_at`]), or take the largest value over an array's items (a `*` step).
pub const METRICS: &[(&str, &str)] = &[
    ("simulated_seconds", "/simulated_seconds"),
    (
        "inference_samples_per_s",
        "/throughput/inference_samples_per_s",
    ),
    (
        "learning_samples_per_s",
        "/throughput/learning_samples_per_s",
    ),
    (
        "gradient_estimates_per_s",
        "/throughput/gradient_estimates_per_s",
    ),
    ("weight_updates_per_s", "/throughput/weight_updates_per_s"),
    ("macs_per_cycle", "/throughput/macs_per_cycle"),
    ("utilization", "/throughput/utilization"),
    ("dram_bytes_read", "/ddr/bytes_read"),
    ("dram_bytes_written", "/ddr/bytes_written"),
    (
        "dram_bandwidth_bytes_per_s",
        "/ddr/achieved_bandwidth_bytes_per_s",
    ),
    ("dram_row_hit_rate", "/ddr/controller/row_hit_rate"),
    ("weight_staleness_mean", "/learning/weight_staleness_mean"),
    ("final_loss", "/learning/final_loss"),
    ("diverged_at_samples", "/learning/diverged_at_samples"),
    ("gradient_cosine_mean", "/learning/gradient_cosine_mean"),
    (
        "gradient_estimates_sqnr_db",
        "/representation_error[tensor=gradient_estimates]/sqnr_db",
    ),
    (
        "gradient_estimates_max_rel",
        "/representation_error[tensor=gradient_estimates]/max_rel",
    ),
    (
        "updated_weights_sqnr_db",
        "/representation_error[tensor=updated_weights]/sqnr_db",
    ),
    (
        "updated_weights_max_rel",
        "/representation_error[tensor=updated_weights]/max_rel",
    ),
    ("engine_events", "/engine/events"),
    (
        "activation_tape_peak_bytes",
        "/memory/partitions/*/activation_tape_peak_bytes",
    ),
    ("spilled_bytes", "/memory/partitions/*/spilled_bytes"),
];

/// The number at `ptr` in a report (see [`METRICS`]): [`metric_at`], except that a `/*`
/// step takes the largest value over the items of that array.
pub(super) fn metric(v: &Value, ptr: &str) -> Option<f64> {
    match ptr.split_once("/*") {
        Some((list, rest)) => metric_at(v, list)?
            .as_array()?
            .iter()
            .filter_map(|item| metric_at(item, rest).and_then(Value::as_f64))
            .reduce(f64::max),
        None => metric_at(v, ptr).and_then(Value::as_f64),
    }
}

/// The value at `path` in a report: a JSON pointer whose segments may select the first
/// element of an array by a field, `name[field=value]` (as in [`METRICS`]).
pub fn metric_at<'a>(report: &'a Value, path: &str) -> Option<&'a Value> {
    let mut at = report;
    for seg in path.split('/').skip(1) {
        at = match seg.strip_suffix(']').and_then(|s| s.split_once('[')) {
            Some((name, filter)) => {
                let (field, want) = filter.split_once('=')?;
                at.get(name)?
                    .as_array()?
                    .iter()
                    .find(|e| e.get(field).and_then(Value::as_str) == Some(want))?
            }
            None => at.get(seg).or_else(|| {
                let i: usize = seg.parse().ok()?;
                at.get(i)
            })?,
        };
    }
    Some(at)
}

/// The metric list of releases that wrote a row's metrics as a bare array, in its order (a
/// row of another length cannot be placed and does not parse: `--resume` runs its point
/// again).
pub const METRICS_BEFORE_NAMES: &[&str] = &[
    "simulated_seconds",
    "inference_samples_per_s",
    "learning_samples_per_s",
    "gradient_estimates_per_s",
    "weight_updates_per_s",
    "macs_per_cycle",
    "utilization",
    "dram_bytes_read",
    "dram_bytes_written",
    "dram_bandwidth_bytes_per_s",
    "dram_row_hit_rate",
    "weight_staleness_mean",
    "final_loss",
    "gradient_cosine_mean",
    "gradient_estimates_sqnr_db",
    "gradient_estimates_max_rel",
    "updated_weights_sqnr_db",
    "updated_weights_max_rel",
    "engine_events",
    "activation_tape_peak_bytes",
    "spilled_bytes",
];

/// Serde for a row's metrics: an object keyed by metric name in [`METRICS`] order, read back
/// from that object or from the bare array of [`METRICS_BEFORE_NAMES`].
pub mod by_name {
    use serde::Deserialize;

    use super::*;

    /// Writes `metrics` (one per [`METRICS`] entry) as an object keyed by metric name.
    pub fn serialize<S: Serializer>(metrics: &[Option<f64>], s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(METRICS.len()))?;
        for ((name, _), m) in METRICS.iter().zip(metrics) {
            map.serialize_entry(name, m)?;
        }
        map.end()
    }

    /// Reads an object keyed by metric name, or a bare array in the order of
    /// [`METRICS_BEFORE_NAMES`]; the result has one entry per [`METRICS`] entry.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Option<f64>>, D::Error> {
        let pairs: Vec<(String, Option<f64>)> = match Value::deserialize(d)? {
            Value::Object(map) => map
                .into_iter()
                .map(|(k, v)| Ok((k, number(v).map_err(D::Error::custom)?)))
                .collect::<Result<_, D::Error>>()?,
            Value::Array(items) if items.len() == METRICS_BEFORE_NAMES.len() => {
                METRICS_BEFORE_NAMES
                    .iter()
                    .zip(items)
                    .map(|(k, v)| Ok((k.to_string(), number(v).map_err(D::Error::custom)?)))
                    .collect::<Result<_, D::Error>>()?
            }
            other => {
                return Err(D::Error::custom(format!(
                    "metrics: expected an object keyed by metric name, found {other}"
                )));
            }
        };
        let mut metrics = vec![None; METRICS.len()];
        for (k, v) in pairs {
            if let Some(i) = METRICS.iter().position(|(name, _)| *name == k) {
                metrics[i] = v;
            }
        }
        Ok(metrics)
    }

    fn number(v: Value) -> Result<Option<f64>, String> {
        match v {
            Value::Null => Ok(None),
            Value::Number(n) => Ok(n.as_f64()),
            other => Err(format!("a metric is a number or null, found {other}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_paths_select_array_elements_by_field() {
        let v: Value = serde_json::from_str(
            r#"{"a": {"b": 2.5}, "r": [{"tensor": "w", "x": 1}, {"tensor": "g", "x": 7}]}"#,
        )
        .unwrap();
        assert_eq!(metric_at(&v, "/a/b").and_then(Value::as_f64), Some(2.5));
        assert_eq!(
            metric_at(&v, "/r[tensor=g]/x").and_then(Value::as_u64),
            Some(7)
        );
        assert_eq!(metric_at(&v, "/r/0/x").and_then(Value::as_u64), Some(1));
        assert!(metric_at(&v, "/r[tensor=q]/x").is_none());
        assert!(metric_at(&v, "/r[tensor]/x").is_none());
        assert!(metric_at(&v, "/a/c").is_none());
    }

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct R {
        #[serde(with = "by_name")]
        metrics: Vec<Option<f64>>,
    }

    #[test]
    fn metrics_round_trip_by_name_and_ignore_unknown_names() {
        let mut metrics = vec![None; METRICS.len()];
        metrics[0] = Some(0.5);
        metrics[METRICS.len() - 1] = Some(7.0);
        let r = R { metrics };
        let text = serde_json::to_string(&r).unwrap();
        assert!(
            text.starts_with(r#"{"metrics":{"simulated_seconds":0.5,"#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<R>(&text).unwrap(), r);
        let partial: R =
            serde_json::from_str(r#"{"metrics":{"final_loss":2.0,"from_a_later_release":1}}"#)
                .unwrap();
        let i = METRICS
            .iter()
            .position(|(n, _)| *n == "final_loss")
            .unwrap();
        assert_eq!(partial.metrics[i], Some(2.0));
        assert_eq!(partial.metrics.iter().flatten().count(), 1);
    }

    #[test]
    fn a_bare_array_of_the_earlier_list_is_read_in_its_order() {
        let n = METRICS_BEFORE_NAMES.len();
        let items: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        let r: R =
            serde_json::from_str(&format!(r#"{{"metrics":[{}]}}"#, items.join(","))).unwrap();
        for (k, name) in METRICS_BEFORE_NAMES.iter().enumerate() {
            let i = METRICS.iter().position(|(m, _)| m == name).unwrap();
            assert_eq!(r.metrics[i], Some(k as f64), "{name}");
        }
        let new = METRICS
            .iter()
            .position(|(m, _)| *m == "diverged_at_samples")
            .unwrap();
        assert_eq!(r.metrics[new], None);
        // An array of another length cannot be placed.
        assert!(serde_json::from_str::<R>(r#"{"metrics":[1,2]}"#).is_err());
        assert!(serde_json::from_str::<R>(r#"{"metrics":{"final_loss":"x"}}"#).is_err());
    }
}
