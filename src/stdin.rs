//! `rampart scan -`: one stream read from standard input (Kubernetes YAML
//! or JSON, CloudFormation, Terraform JSON, or a Dockerfile with
//! `--stdin-platform dockerfile`), scanned as a file and reported as
//! `<stdin>` or the `--stdin-name` given.
//!
//! The stream is held in a private temporary directory under a name that
//! makes detection read it as the right kind (`stdin.yaml`, `stdin.tf.json`,
//! `Dockerfile`), scanned like any file, and the report is then relabelled,
//! so every output format, suppression and exit policy applies unchanged.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::ValueEnum;

use crate::finding::{FingerprintInputs, ScanResult, fingerprint};

/// What the stream is, when its content does not say.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StdinPlatform {
    /// Kubernetes manifests (YAML or JSON).
    Kubernetes,
    /// A CloudFormation template (YAML or JSON).
    Cloudformation,
    /// Terraform JSON syntax (`.tf.json`).
    Terraform,
    /// A Dockerfile.
    Dockerfile,
}

/// The captured stream.
pub struct Captured {
    // Removed when dropped.
    _dir: tempfile::TempDir,
    /// Where it was written.
    pub path: PathBuf,
    /// What reports call it.
    pub display: String,
}

/// The name the stream is written under: the given name's file name, or
/// one chosen from the platform or the content.
fn file_name(text: &str, name: Option<&str>, platform: Option<StdinPlatform>) -> String {
    if let Some(base) = name
        .and_then(|n| Path::new(n).file_name())
        .and_then(|n| n.to_str())
        .filter(|n| !n.is_empty() && *n != "." && *n != "..")
    {
        return base.to_string();
    }
    let json = text.trim_start().starts_with('{') || text.trim_start().starts_with('[');
    match platform {
        Some(StdinPlatform::Dockerfile) => "Dockerfile".into(),
        Some(StdinPlatform::Terraform) => "stdin.tf.json".into(),
        Some(StdinPlatform::Cloudformation | StdinPlatform::Kubernetes) | None => {
            if json {
                "stdin.json".into()
            } else {
                "stdin.yaml".into()
            }
        }
    }
}

/// Reads all of `reader` (at most `max_size` bytes) into a temporary file.
pub fn capture(
    reader: &mut dyn Read,
    name: Option<&str>,
    platform: Option<StdinPlatform>,
    max_size: u64,
) -> anyhow::Result<Captured> {
    let mut bytes = Vec::new();
    reader
        .take(max_size.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| anyhow::anyhow!("cannot read standard input: {e}"))?;
    if bytes.len() as u64 > max_size {
        anyhow::bail!("standard input is over the {max_size}-byte limit (--max-file-size)");
    }
    let text = String::from_utf8_lossy(&bytes);
    let dir = tempfile::Builder::new().prefix("rampart-stdin").tempdir()?;
    let path = dir.path().join(file_name(&text, name, platform));
    std::fs::write(&path, &bytes)?;
    Ok(Captured {
        _dir: dir,
        path,
        display: name.map(str::to_string).unwrap_or_else(|| "<stdin>".into()),
    })
}

/// Reports the temporary file as the stream's name, with fingerprints
/// computed from that name (so a baseline recorded from stdin matches).
pub fn relabel(result: &mut ScanResult, captured: &Captured) {
    let temp = crate::discover::display_path(&captured.path);
    for f in result.findings.iter_mut().filter(|f| f.file == temp) {
        f.file = captured.display.clone();
        f.fingerprint = fingerprint(FingerprintInputs {
            query_id: &f.query_id,
            file: &f.file,
            entity: &f.entity,
            caller: None,
            anchor: &f.anchor,
            value: f.value.as_deref(),
        });
    }
    for d in result.diagnostics.iter_mut().filter(|d| d.file == temp) {
        d.file = captured.display.clone();
    }
    if let Some(text) = result.sources.remove(&temp) {
        result.sources.insert(captured.display.clone(), text);
    }
    if let Some(hashes) = &mut result.line_hashes
        && let Some(lines) = hashes.remove(&temp)
    {
        hashes.insert(captured.display.clone(), lines);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_platform_and_content() {
        assert_eq!(file_name("kind: Pod", None, None), "stdin.yaml");
        assert_eq!(file_name("{\"kind\": \"Pod\"}", None, None), "stdin.json");
        assert_eq!(
            file_name("FROM x", None, Some(StdinPlatform::Dockerfile)),
            "Dockerfile"
        );
        assert_eq!(
            file_name("{}", None, Some(StdinPlatform::Terraform)),
            "stdin.tf.json"
        );
        assert_eq!(file_name("x", Some("deploy/app.yaml"), None), "app.yaml");
    }

    #[test]
    fn capture_refuses_oversized_input() {
        let mut input: &[u8] = b"0123456789";
        assert!(capture(&mut input, None, None, 5).is_err());
        let mut input: &[u8] = b"kind: Pod\n";
        let c = capture(&mut input, None, None, 100).expect("capture");
        assert_eq!(c.display, "<stdin>");
        assert!(c.path.ends_with("stdin.yaml"));
    }
}
