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
        let mut hash = FNV_OFFSET;
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
            if name == "QUERIES" {
                let text = fs::read(&file).expect("read above");
                for part in [relative.as_bytes(), &[0], &text, &[0]] {
                    hash = fnv(hash, part);
                }
            }
            code.push_str(&format!(
                "    ({relative:?}, include_str!({:?})),\n",
                file.to_string_lossy()
            ));
        }
        code.push_str("];\n");
        if name == "QUERIES" {
            code.push_str(&format!(
                "/// FNV-1a of the query files' paths and texts: the headings file\n/// (`src/query/headings.json`) is used only when made from these.\npub const QUERIES_HASH: &str = \"{:016x}\";\n",
                hash
            ));
        }
    }
    fs::write(out.join("embedded.rs"), code).expect("write embedded.rs");
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv(mut hash: u64, bytes: &[u8]) -> u64 {
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
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
