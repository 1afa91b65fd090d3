//! Telling what a YAML or JSON file is from its content.
//!
//! Two steps, so arbitrary YAML costs almost nothing: a cheap look at the
//! text decides whether the file is worth parsing at all, then the parsed
//! documents decide which of them are Kubernetes objects or CloudFormation
//! templates. A GitHub workflow, a docker-compose file or a Helm
//! `values.yaml` fails the first step and is skipped silently.

use saphyr_parser::{Event, Parser, ScanError, StrInput};

use crate::platform::Platform;

/// What the text of a YAML or JSON file suggests it is.
///
/// Decided by parsing, so every way YAML can write a key counts (quoted
/// keys, flow mappings, `? key` entries, JSON after a comment line: issue
/// 21, item 3), yet cheaply: the YAML event parser is run without building
/// a tree, only the top-level keys of each document are looked at (and,
/// under `Resources`, each resource's `Type`), and it stops at the first
/// document that is recognised.
///
/// Text the event parser rejects falls back to line patterns, so a broken
/// manifest is still recognised, parsed, and its error reported, rather
/// than skipped as if it were not IaC.
pub fn sniff_structured(text: &str) -> Option<Platform> {
    match sniff_documents(skip_leading_json_comments(text)) {
        Ok(found) => found,
        Err(_) => sniff_lines(text),
    }
}

/// Whether `text` is JSON (possibly with `//` or `/* */` comments before
/// it) rather than YAML: it opens an object whose first key is quoted in
/// double quotes. A YAML flow mapping (`{apiVersion: v1, ...}`) opens the
/// same way but is YAML.
pub fn is_json(text: &str) -> bool {
    skip_leading_json_comments(text)
        .strip_prefix('{')
        .map(skip_leading_json_comments)
        .is_some_and(|rest| rest.starts_with('"') || rest.starts_with('}'))
}

/// `text` past leading whitespace and JSON-with-comments comments (which
/// YAML does not have; a `#` comment is YAML's and is left to it).
fn skip_leading_json_comments(text: &str) -> &str {
    let mut rest = text.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("//") {
            rest = after.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, r)| r).trim_start();
        } else {
            return rest;
        }
    }
}

/// YAML events, with the end of the stream as an event rather than `None`.
struct Events<'a> {
    parser: Parser<'a, StrInput<'a>>,
}

impl<'a> Events<'a> {
    fn next(&mut self) -> Result<Event<'a>, ScanError> {
        match self.parser.next_event() {
            Some(Ok((event, _))) => Ok(event),
            Some(Err(err)) => Err(err),
            None => Ok(Event::StreamEnd),
        }
    }

    /// Consumes the rest of the node that `first` starts.
    fn skip(&mut self, first: Event<'a>) -> Result<(), ScanError> {
        let mut open = usize::from(starts_collection(&first));
        while open > 0 {
            match self.next()? {
                Event::SequenceStart(..) | Event::MappingStart(..) => open += 1,
                Event::SequenceEnd | Event::MappingEnd => open -= 1,
                Event::StreamEnd => return Ok(()),
                _ => {}
            }
        }
        Ok(())
    }
}

fn starts_collection(event: &Event) -> bool {
    matches!(event, Event::SequenceStart(..) | Event::MappingStart(..))
}

/// The platform of the first document of the stream that is recognised.
fn sniff_documents(text: &str) -> Result<Option<Platform>, ScanError> {
    let mut events = Events {
        parser: Parser::new_from_str(text),
    };
    loop {
        match events.next()? {
            Event::StreamEnd => return Ok(None),
            Event::MappingStart(..) => {
                if let Some(platform) = sniff_top_mapping(&mut events)? {
                    return Ok(Some(platform));
                }
            }
            node @ (Event::SequenceStart(..) | Event::Scalar(..) | Event::Alias(..)) => {
                events.skip(node)?
            }
            _ => {}
        }
    }
}

/// Reads the entries of a document's top-level mapping (its start already
/// consumed) up to its end, or until the keys say what it is.
fn sniff_top_mapping(events: &mut Events) -> Result<Option<Platform>, ScanError> {
    let (mut api_version, mut kind) = (false, false);
    loop {
        let key = match events.next()? {
            Event::MappingEnd | Event::StreamEnd => return Ok(None),
            Event::Scalar(name, ..) => Some(name),
            other => {
                events.skip(other)?;
                None
            }
        };
        let value = events.next()?;
        let cloudformation = match key.as_deref() {
            Some("AWSTemplateFormatVersion") => true,
            Some("Transform") => names_aws_transform(value, events)?,
            Some("Resources") => has_cloudformation_type(value, events)?,
            Some(name) => {
                api_version |= name == "apiVersion";
                kind |= name == "kind";
                events.skip(value)?;
                false
            }
            None => {
                events.skip(value)?;
                false
            }
        };
        if cloudformation {
            return Ok(Some(Platform::CloudFormation));
        }
        if api_version && kind {
            return Ok(Some(Platform::Kubernetes));
        }
    }
}

/// Whether a `Transform` value (consumed) names an AWS transform (SAM's
/// `AWS::Serverless-2016-10-31`), alone or in a list.
fn names_aws_transform<'a>(value: Event<'a>, events: &mut Events<'a>) -> Result<bool, ScanError> {
    match value {
        Event::Scalar(name, ..) => Ok(is_aws_type(&name)),
        Event::SequenceStart(..) => {
            let mut found = false;
            loop {
                match events.next()? {
                    Event::SequenceEnd | Event::StreamEnd => return Ok(found),
                    Event::Scalar(name, ..) => found |= is_aws_type(&name),
                    other => events.skip(other)?,
                }
            }
        }
        other => events.skip(other).map(|()| false),
    }
}

/// Whether a `Resources` value (consumed) holds a resource whose `Type` is
/// a CloudFormation type.
fn has_cloudformation_type<'a>(
    value: Event<'a>,
    events: &mut Events<'a>,
) -> Result<bool, ScanError> {
    if !matches!(value, Event::MappingStart(..)) {
        return events.skip(value).map(|()| false);
    }
    let mut found = false;
    loop {
        let name = events.next()?;
        if matches!(name, Event::MappingEnd | Event::StreamEnd) {
            return Ok(found);
        }
        events.skip(name)?;
        match events.next()? {
            Event::MappingStart(..) => found |= resource_has_aws_type(events)?,
            other => events.skip(other)?,
        }
    }
}

/// Whether the resource mapping (its start consumed, read to its end) has
/// `Type: AWS::...` or `Type: Custom::...`.
fn resource_has_aws_type(events: &mut Events) -> Result<bool, ScanError> {
    let mut found = false;
    loop {
        let key = match events.next()? {
            Event::MappingEnd | Event::StreamEnd => return Ok(found),
            Event::Scalar(name, ..) => Some(name),
            other => {
                events.skip(other)?;
                None
            }
        };
        match (key.as_deref(), events.next()?) {
            (Some("Type"), Event::Scalar(ty, ..)) => {
                found |= is_aws_type(&ty) || ty.starts_with("Custom::");
            }
            (_, value) => events.skip(value)?,
        }
    }
}

fn is_aws_type(name: &str) -> bool {
    name.starts_with("AWS::")
}

/// The line patterns used when the text does not parse: the CloudFormation
/// markers anywhere, or `apiVersion` and `kind` as top-level keys (quoted or
/// not; anywhere in JSON).
fn sniff_lines(text: &str) -> Option<Platform> {
    if text.contains("AWSTemplateFormatVersion")
        || (text.contains("Resources") && (text.contains("AWS::") || text.contains("Custom::")))
    {
        return Some(Platform::CloudFormation);
    }
    let json = is_json(text);
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

/// A line that starts, at column 0, with `key:` (or the key quoted).
/// Kubernetes objects keep `apiVersion` and `kind` at the top level of each
/// document.
fn has_top_level_yaml_key(text: &str, key: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim_start_matches('\u{FEFF}');
        let rest = [("", ""), ("\"", "\""), ("'", "'")]
            .iter()
            .find_map(|(open, close)| {
                line.strip_prefix(open)?
                    .strip_prefix(key)?
                    .strip_prefix(close)
            });
        rest.is_some_and(|rest| rest.trim_start().starts_with(':'))
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

    /// Every way YAML can write the keys (issue 21, item 3).
    #[test]
    fn keys_are_recognised_however_written() {
        let kubernetes = [
            "\"apiVersion\": v1\n'kind': Pod\n",
            "{apiVersion: v1, kind: Pod, metadata: {name: p}}\n",
            "# a comment\n{\"apiVersion\": \"v1\", \"kind\": \"Pod\"}\n",
            "// a comment\n{\"apiVersion\": \"v1\", \"kind\": \"Pod\"}\n",
            "? apiVersion\n: v1\n? kind\n: Pod\n",
            "\u{FEFF}apiVersion: v1\nkind: Pod\n",
            "---\n# only a comment\n---\n[1, 2]\n---\nname: x\n---\napiVersion: v1\nkind: Pod\n",
            "{\n\t\"apiVersion\": \"v1\",\n\t\"kind\": \"Pod\"\n}\n",
        ];
        for text in kubernetes {
            assert_eq!(sniff_structured(text), Some(Platform::Kubernetes), "{text}");
        }
        let cloudformation = [
            "\"AWSTemplateFormatVersion\": '2010-09-09'\n",
            "{AWSTemplateFormatVersion: '2010-09-09', Resources: {}}\n",
            "# c\n{\"Resources\": {\"B\": {\"Type\": \"AWS::S3::Bucket\"}}}\n",
            "Resources:\n  ? B\n  : {Type: 'Custom::Thing'}\n",
            "Transform: [AWS::Serverless-2016-10-31]\nResources: {}\n",
        ];
        for text in cloudformation {
            assert_eq!(
                sniff_structured(text),
                Some(Platform::CloudFormation),
                "{text}"
            );
        }
        let neither = [
            "Resources:\n  B:\n    Type: my::thing\n",
            "{\"name\": \"app\", \"kind\": \"module\"}",
            "apiVersion: v2\nname: chart\n",
            "a:\n  kind: Pod\n  apiVersion: v1\n",
        ];
        for text in neither {
            assert_eq!(sniff_structured(text), None, "{text}");
        }
    }

    /// A broken document is still recognised by its lines, so its parse
    /// error is reported instead of the file being skipped.
    #[test]
    fn broken_documents_fall_back_to_lines() {
        assert_eq!(
            sniff_structured("apiVersion: v1\nkind: Pod\nspec: [\n"),
            Some(Platform::Kubernetes)
        );
        assert_eq!(
            sniff_structured("\t\"apiVersion\": x\n\"kind\": Pod\n: :\n"),
            Some(Platform::Kubernetes)
        );
        assert_eq!(sniff_structured("a: [\n"), None);
    }

    #[test]
    fn json_after_comments() {
        assert!(is_json("  // c\n/* d */ {\"a\": 1}"));
        assert!(!is_json("# c\n{\"a\": 1}"));
        assert!(!is_json("a: 1"));
        assert!(is_json("{\n  \"a\": 1}"));
        assert!(is_json("{}"));
        assert!(!is_json("{a: 1}"));
        assert!(!is_json("{'a': 1}"));
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
