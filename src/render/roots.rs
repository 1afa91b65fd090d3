//! Which charts and kustomizations a scan renders.

use super::RenderRoot;

/// The roots to render among those discovered. Every chart renders; a
/// kustomization renders too (overlays included by another kustomization
/// are built through it — refined when kustomizations are built).
pub fn select(found: Vec<RenderRoot>) -> Vec<RenderRoot> {
    found
}
