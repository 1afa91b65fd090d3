//! Counters and the latency histogram behind `/metrics`, in the
//! Prometheus text format.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the latency histogram's buckets.
const BUCKETS: [f64; 11] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];

/// Everything counted since start.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    /// (mode, decision, dry_run) → reviews.
    reviews: BTreeMap<(String, &'static str, bool), u64>,
    /// query id → enforced denials it caused (dry runs not counted).
    denials: BTreeMap<String, u64>,
    /// HTTP status → requests refused before any review (400, 404, 413).
    rejected: BTreeMap<u16, u64>,
    /// Per bucket, then +Inf.
    latency: [u64; BUCKETS.len() + 1],
    latency_sum: f64,
    latency_count: u64,
}

impl Metrics {
    /// Counts one review: its mode (`exempt` when none applied), whether it
    /// was allowed, and the queries that denied it.
    pub fn review(
        &self,
        mode: &str,
        allowed: bool,
        dry_run: bool,
        denied_by: &[String],
        took: Duration,
    ) {
        let Ok(mut c) = self.inner.lock() else {
            return;
        };
        let decision = if allowed { "allowed" } else { "denied" };
        *c.reviews
            .entry((mode.to_string(), decision, dry_run))
            .or_default() += 1;
        if !allowed && !dry_run {
            for id in denied_by {
                *c.denials.entry(id.clone()).or_default() += 1;
            }
        }
        let seconds = took.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|b| seconds <= *b)
            .unwrap_or(BUCKETS.len());
        c.latency[bucket] += 1;
        c.latency_sum += seconds;
        c.latency_count += 1;
    }

    /// Counts a request refused with `status` before it was reviewed.
    pub fn rejected(&self, status: u16) {
        if let Ok(mut c) = self.inner.lock() {
            *c.rejected.entry(status).or_default() += 1;
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let Ok(c) = self.inner.lock() else {
            return String::new();
        };
        let mut out = String::new();
        out.push_str("# HELP rampart_admission_reviews_total AdmissionReviews answered.\n");
        out.push_str("# TYPE rampart_admission_reviews_total counter\n");
        for ((mode, decision, dry_run), n) in &c.reviews {
            out.push_str(&format!(
                "rampart_admission_reviews_total{{mode=\"{mode}\",decision=\"{decision}\",dry_run=\"{dry_run}\"}} {n}\n"
            ));
        }
        out.push_str("# HELP rampart_admission_denials_total Enforced denials by query (dry runs not counted).\n");
        out.push_str("# TYPE rampart_admission_denials_total counter\n");
        for (id, n) in &c.denials {
            out.push_str(&format!(
                "rampart_admission_denials_total{{query=\"{id}\"}} {n}\n"
            ));
        }
        out.push_str("# HELP rampart_admission_rejected_requests_total Requests refused before review, by HTTP status.\n");
        out.push_str("# TYPE rampart_admission_rejected_requests_total counter\n");
        for (status, n) in &c.rejected {
            out.push_str(&format!(
                "rampart_admission_rejected_requests_total{{status=\"{status}\"}} {n}\n"
            ));
        }
        out.push_str(
            "# HELP rampart_admission_review_duration_seconds Time to decide one review.\n",
        );
        out.push_str("# TYPE rampart_admission_review_duration_seconds histogram\n");
        let mut cumulative = 0;
        for (i, bound) in BUCKETS.iter().enumerate() {
            cumulative += c.latency[i];
            out.push_str(&format!(
                "rampart_admission_review_duration_seconds_bucket{{le=\"{bound}\"}} {cumulative}\n"
            ));
        }
        cumulative += c.latency[BUCKETS.len()];
        out.push_str(&format!(
            "rampart_admission_review_duration_seconds_bucket{{le=\"+Inf\"}} {cumulative}\n"
        ));
        out.push_str(&format!(
            "rampart_admission_review_duration_seconds_sum {}\n",
            c.latency_sum
        ));
        out.push_str(&format!(
            "rampart_admission_review_duration_seconds_count {}\n",
            c.latency_count
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_reviews_denials_and_latency() {
        let m = Metrics::default();
        let ids = vec!["k8s-privileged-container".to_string()];
        m.review("enforce", false, false, &ids, Duration::from_micros(700));
        m.review("enforce", false, true, &ids, Duration::from_millis(2));
        m.review("warn", true, false, &[], Duration::from_secs(2));
        m.rejected(400);
        let text = m.render();
        assert!(text.contains("rampart_admission_reviews_total{mode=\"enforce\",decision=\"denied\",dry_run=\"false\"} 1\n"));
        assert!(text.contains("rampart_admission_reviews_total{mode=\"enforce\",decision=\"denied\",dry_run=\"true\"} 1\n"));
        assert!(
            text.contains(
                "rampart_admission_denials_total{query=\"k8s-privileged-container\"} 1\n"
            )
        );
        assert!(text.contains("rampart_admission_rejected_requests_total{status=\"400\"} 1\n"));
        assert!(
            text.contains("rampart_admission_review_duration_seconds_bucket{le=\"0.0005\"} 0\n")
        );
        assert!(
            text.contains("rampart_admission_review_duration_seconds_bucket{le=\"0.001\"} 1\n")
        );
        assert!(
            text.contains("rampart_admission_review_duration_seconds_bucket{le=\"0.0025\"} 2\n")
        );
        assert!(text.contains("rampart_admission_review_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert!(text.contains("rampart_admission_review_duration_seconds_count 3\n"));
    }
}
