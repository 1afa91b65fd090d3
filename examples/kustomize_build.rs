//! Builds one kustomization directory with rampart's in-process kustomize
//! and prints the YAML (diagnostics on stderr; exit 1 when any is an error).
//! A driver for `scripts/kustomize-goldens.sh` until `rampart render` lands.

use std::path::Path;

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: kustomize_build DIR");
        std::process::exit(2);
    };
    let r = rampart::render::kustomize::build(
        Path::new(&dir),
        &rampart::render::FsDisk,
        &rampart::render::kustomize::KustomizeOptions::default(),
    );
    print!("{}", r.text);
    let mut failed = false;
    for d in &r.diagnostics {
        eprintln!("{d}");
        failed |= d.level == rampart::diagnostic::Level::Error;
    }
    std::process::exit(i32::from(failed));
}
