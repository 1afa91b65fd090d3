//! Telling what a YAML or JSON file is from its content.
//!
//! Two steps, so arbitrary YAML costs almost nothing: a cheap look at the
//! text decides whether the file is worth parsing at all, then the parsed
//! documents decide which of them are Kubernetes objects or CloudFormation
//! templates. A GitHub workflow, a docker-compose file or a Helm
//! `values.yaml` fails the first step and is skipped silently.

use crate::platform::Platform;

/// What the text of a YAML or JSON file suggests it is.
pub fn sniff_structured(text: &str) -> Option<Platform> {
    if text.contains("AWSTemplateFormatVersion")
        || (text.contains("Resources") && (text.contains("AWS::") || text.contains("Custom::")))
    {
        return Some(Platform::CloudFormation);
    }
    let json = text.trim_start().starts_with('{');
    let has_key = |key: &str| {
        if json {
            text.contains(&format!("\"{key}\""))
        } else {
            has_top_level_yaml_key(text, key)
        }
    };
    if has_key("apiVersion") && has_key("kind") {
        return Some(Platform::Kubernetes);
    }
    None
}

/// A line that starts, at column 0, with `key:`. Kubernetes objects keep
/// `apiVersion` and `kind` at the top level of each document.
fn has_top_level_yaml_key(text: &str, key: &str) -> bool {
    text.lines().any(|line| {
        line.strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with(':'))
    })
}

/// Whether text read from a file of unknown name reads as a Dockerfile: its
/// first instruction (past comments and blank lines) is `FROM` or `ARG`.
pub fn looks_like_dockerfile(text: &str) -> bool {
    text.lines()
        .map(str::trim_start)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .and_then(|l| l.split_whitespace().next())
        .is_some_and(|w| w.eq_ignore_ascii_case("FROM") || w.eq_ignore_ascii_case("ARG"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs() {
        let cases: [(&str, Option<Platform>); 7] = [
            ("apiVersion: v1\nkind: Pod\n", Some(Platform::Kubernetes)),
            (
                "---\napiVersion: apps/v1\nkind: Deployment\n",
                Some(Platform::Kubernetes),
            ),
            (
                "{\"apiVersion\": \"v1\", \"kind\": \"Service\"}",
                Some(Platform::Kubernetes),
            ),
            (
                "AWSTemplateFormatVersion: '2010-09-09'\n",
                Some(Platform::CloudFormation),
            ),
            (
                "Transform: AWS::Serverless-2016-10-31\nResources:\n  F:\n    Type: AWS::Serverless::Function\n",
                Some(Platform::CloudFormation),
            ),
            (
                "name: CI\non: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n",
                None,
            ),
            ("services:\n  web:\n    image: nginx\n", None),
        ];
        for (text, want) in cases {
            assert_eq!(sniff_structured(text), want, "{text}");
        }
    }

    #[test]
    fn nested_keys_are_not_top_level() {
        assert_eq!(
            sniff_structured("spec:\n  apiVersion: v1\n  kind: Pod\n"),
            None
        );
    }

    #[test]
    fn dockerfile_content() {
        assert!(looks_like_dockerfile(
            "# syntax=docker/dockerfile:1\n\nFROM alpine\n"
        ));
        assert!(looks_like_dockerfile("arg BASE=alpine\nfrom $BASE\n"));
        assert!(!looks_like_dockerfile("hello world\n"));
    }
}
