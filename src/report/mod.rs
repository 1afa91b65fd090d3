//! Reporters: a [`ScanResult`] in, text on a writer out. Reporters only
//! render; every decision (what was found, in what order) is made before.

pub mod json;
pub mod text;

use crate::scan::ScanResult;

/// The number of findings per severity, most severe first, zeros left out.
pub fn severity_counts(result: &ScanResult) -> Vec<(crate::query::Severity, usize)> {
    crate::query::Severity::ALL
        .into_iter()
        .map(|s| {
            (
                s,
                result.findings.iter().filter(|f| f.severity == s).count(),
            )
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}
