//! Compliance controls a query supports: facts (a framework and the id of
//! one of its controls), never the benchmark's text. Written in a query as
//! `controls: [CIS-K8S-5.2.1, PSS-baseline, NIST-800-53-AC-6]`.

use std::fmt;

/// A compliance framework rampart maps queries to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Framework {
    /// CIS Amazon Web Services Foundations Benchmark.
    CisAws,
    /// CIS Kubernetes Benchmark.
    CisK8s,
    /// CIS Docker Benchmark.
    CisDocker,
    /// Kubernetes Pod Security Standards (`baseline`, `restricted`).
    Pss,
    /// NSA/CISA Kubernetes Hardening Guidance.
    NsaK8s,
    /// NIST SP 800-53 (control families and controls, `AC-6`).
    Nist80053,
}

impl Framework {
    /// Every framework, in report order.
    pub const ALL: [Framework; 6] = [
        Framework::CisAws,
        Framework::CisK8s,
        Framework::CisDocker,
        Framework::Pss,
        Framework::NsaK8s,
        Framework::Nist80053,
    ];

    /// The prefix a control is written with (`CIS-K8S` in `CIS-K8S-5.2.1`).
    pub fn prefix(self) -> &'static str {
        match self {
            Framework::CisAws => "CIS-AWS",
            Framework::CisK8s => "CIS-K8S",
            Framework::CisDocker => "CIS-DOCKER",
            Framework::Pss => "PSS",
            Framework::NsaK8s => "NSA-K8S",
            Framework::Nist80053 => "NIST-800-53",
        }
    }

    /// Its full name, for reports.
    pub fn name(self) -> &'static str {
        match self {
            Framework::CisAws => "CIS AWS Foundations Benchmark",
            Framework::CisK8s => "CIS Kubernetes Benchmark",
            Framework::CisDocker => "CIS Docker Benchmark",
            Framework::Pss => "Kubernetes Pod Security Standards",
            Framework::NsaK8s => "NSA/CISA Kubernetes Hardening Guidance",
            Framework::Nist80053 => "NIST SP 800-53",
        }
    }

    /// Whether `id` is shaped like one of this framework's control ids.
    fn accepts(self, id: &str) -> bool {
        let dotted = |s: &str| {
            !s.is_empty()
                && s.split('.')
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        };
        match self {
            Framework::CisAws | Framework::CisK8s | Framework::CisDocker => dotted(id),
            Framework::Pss => matches!(id, "baseline" | "restricted"),
            // Sections of the guidance: `pod-security`, `network-separation`, ...
            Framework::NsaK8s => {
                !id.is_empty() && id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
            }
            // A family (`AC`) or a control (`AC-6`, `SC-8(1)`).
            Framework::Nist80053 => {
                let (family, rest) = id.split_once('-').unwrap_or((id, ""));
                family.len() == 2
                    && family.bytes().all(|b| b.is_ascii_uppercase())
                    && rest
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b == b'(' || b == b')')
            }
        }
    }
}

/// One control of one framework.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Control {
    /// The framework.
    pub framework: Framework,
    /// The control's id within it (`5.2.1`, `baseline`, `AC-6`).
    pub id: String,
}

impl Control {
    /// Parses `CIS-K8S-5.2.1`; `None` when the framework is unknown or the
    /// id is not shaped like one of its controls.
    pub fn parse(text: &str) -> Option<Control> {
        let text = text.trim();
        // Longest prefix first: `CIS-K8S` must not shadow a longer one.
        let mut frameworks = Framework::ALL;
        frameworks.sort_by_key(|f| std::cmp::Reverse(f.prefix().len()));
        frameworks.into_iter().find_map(|framework| {
            let id = text.strip_prefix(framework.prefix())?.strip_prefix('-')?;
            framework.accepts(id).then(|| Control {
                framework,
                id: id.to_string(),
            })
        })
    }
}

impl fmt::Display for Control {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.framework.prefix(), self.id)
    }
}

impl serde::Serialize for Control {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_parse_by_framework_prefix() {
        for text in [
            "CIS-K8S-5.2.1",
            "CIS-AWS-3.1",
            "CIS-DOCKER-4.1",
            "PSS-restricted",
            "NSA-K8S-pod-security",
            "NIST-800-53-AC-6",
            "NIST-800-53-SC-8(1)",
            "NIST-800-53-AU",
        ] {
            let control = Control::parse(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(control.to_string(), text);
        }
        for bad in [
            "CIS-K8S",
            "CIS-K8S-x",
            "PSS-strict",
            "ISO-27001-A.9",
            "NIST-800-53-ac-6",
        ] {
            assert_eq!(Control::parse(bad), None, "{bad}");
        }
    }
}
