//! Which mode applies in a namespace, which namespaces are exempt, and where
//! an object's own `rampart.dev/ignore` annotation is honoured: the
//! `admission:` settings compiled once.

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::config::{AdmissionMode, AdmissionSettings};

/// Namespaces exempt when the settings name none: the control plane's own
/// objects must never wait on a webhook that may itself be down.
pub const DEFAULT_EXEMPT: &str = "kube-system";

/// The compiled `admission:` settings.
#[derive(Clone, Debug)]
pub struct Policy {
    default_mode: AdmissionMode,
    modes: Vec<(GlobSet, AdmissionMode)>,
    exempt: GlobSet,
    ignore_allowed: GlobSet,
}

impl Policy {
    /// Compiles `settings`; `mode` (the `--mode` flag) wins over the
    /// settings' default mode. A bad glob is an error naming it.
    pub fn new(
        settings: &AdmissionSettings,
        mode: Option<AdmissionMode>,
    ) -> Result<Policy, String> {
        let one = |text: &str| -> Result<GlobSet, String> {
            set(std::slice::from_ref(&text.to_string()))
        };
        let modes = settings
            .namespaces
            .iter()
            .map(|(ns, mode)| Ok((one(ns)?, *mode)))
            .collect::<Result<Vec<_>, String>>()?;
        let exempt = match &settings.exempt_namespaces {
            Some(list) => set(list)?,
            None => set(&[DEFAULT_EXEMPT.to_string()])?,
        };
        Ok(Policy {
            default_mode: mode.or(settings.mode).unwrap_or(AdmissionMode::Enforce),
            modes,
            exempt,
            ignore_allowed: set(&settings.allow_ignore_annotation)?,
        })
    }

    /// The mode for objects in `namespace`, or `None` when it is exempt.
    /// Cluster-scoped objects (no namespace) get the default mode.
    pub fn mode_for(&self, namespace: &str) -> Option<AdmissionMode> {
        if !namespace.is_empty() && self.exempt.is_match(namespace) {
            return None;
        }
        Some(
            self.modes
                .iter()
                .find(|(globs, _)| globs.is_match(namespace))
                .map_or(self.default_mode, |(_, mode)| *mode),
        )
    }

    /// Whether `rampart.dev/ignore` on an object in `namespace` counts.
    pub fn ignore_allowed(&self, namespace: &str) -> bool {
        self.ignore_allowed.is_match(namespace)
    }
}

fn set(globs: &[String]) -> Result<GlobSet, String> {
    let mut builder = GlobSetBuilder::new();
    for text in globs {
        builder.add(
            Glob::new(text).map_err(|e| {
                format!("admission: invalid namespace glob \"{text}\": {}", e.kind())
            })?,
        );
    }
    builder.build().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_get_their_mode_and_kube_system_is_exempt_by_default() {
        let settings = AdmissionSettings {
            mode: Some(AdmissionMode::Warn),
            namespaces: vec![
                ("prod-*".into(), AdmissionMode::Enforce),
                ("sandbox".into(), AdmissionMode::Audit),
            ],
            exempt_namespaces: None,
            allow_ignore_annotation: vec!["dev-*".into()],
        };
        let policy = Policy::new(&settings, None).expect("compiles");
        assert_eq!(policy.mode_for("prod-eu"), Some(AdmissionMode::Enforce));
        assert_eq!(policy.mode_for("sandbox"), Some(AdmissionMode::Audit));
        assert_eq!(policy.mode_for("team-a"), Some(AdmissionMode::Warn));
        assert_eq!(policy.mode_for(""), Some(AdmissionMode::Warn));
        assert_eq!(policy.mode_for("kube-system"), None);
        assert!(policy.ignore_allowed("dev-1"));
        assert!(!policy.ignore_allowed("prod-eu"));
        let flag = Policy::new(&settings, Some(AdmissionMode::Audit)).expect("compiles");
        assert_eq!(flag.mode_for("team-a"), Some(AdmissionMode::Audit));
    }

    #[test]
    fn listing_exempt_namespaces_replaces_the_default() {
        let settings = AdmissionSettings {
            exempt_namespaces: Some(vec!["cert-manager".into()]),
            ..AdmissionSettings::default()
        };
        let policy = Policy::new(&settings, None).expect("compiles");
        assert_eq!(policy.mode_for("kube-system"), Some(AdmissionMode::Enforce));
        assert_eq!(policy.mode_for("cert-manager"), None);
        assert!(!policy.ignore_allowed("anything"));
    }
}
