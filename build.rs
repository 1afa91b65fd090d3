//! Embeds `queries/` (and `fixtures/`, for `rampart explain`) into the
//! binary: generates `$OUT_DIR/embedded.rs` with one `include_str!` a file.

use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"));
    let mut code = String::new();
    for (name, dir) in [("QUERIES", "queries"), ("FIXTURES", "fixtures")] {
        println!("cargo:rerun-if-changed={dir}");
        let mut files = Vec::new();
        collect(&root.join(dir), &mut files);
        files.sort();
        code.push_str(&format!(
            "/// Files under `{dir}/`: (path relative to it, text).\npub static {name}: &[(&str, &str)] = &[\n"
        ));
        for file in files {
            let relative = file
                .strip_prefix(root.join(dir))
                .expect("under the directory")
                .to_string_lossy()
                .replace('\\', "/");
            if name == "QUERIES" && !relative.ends_with(".yaml") {
                continue;
            }
            code.push_str(&format!(
                "    ({relative:?}, include_str!({:?})),\n",
                file.to_string_lossy()
            ));
        }
        code.push_str("];\n");
    }
    fs::write(out.join("embedded.rs"), code).expect("write embedded.rs");
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if fs::read_to_string(&path).is_ok() {
            out.push(path);
        }
    }
}
