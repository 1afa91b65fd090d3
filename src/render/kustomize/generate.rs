//! `configMapGenerator` and `secretGenerator`: ConfigMaps and Secrets made
//! from literals, files and env files, and the content hash kustomize
//! appends to their names.

use sha2::{Digest, Sha256};

use super::node::{KEntry, KNode, Loc, Val};

/// One key of generated data, with the line that defined it.
pub struct Item {
    /// The key.
    pub key: String,
    /// The bytes.
    pub value: Vec<u8>,
    /// Where it was defined (the literal, or the `files`/`envs` entry).
    pub at: Loc,
}

/// A literal `key=value`; a value wrapped in matching quotes loses them.
pub fn literal(source: &str) -> Option<(String, String)> {
    let (k, v) = source.split_once('=')?;
    let v = if v.len() >= 2
        && (v.starts_with('"') && v.ends_with('"') || v.starts_with('\'') && v.ends_with('\''))
    {
        &v[1..v.len() - 1]
    } else {
        v
    };
    Some((k.to_string(), v.to_string()))
}

/// The `KEY=value` pairs of an env file: blank lines and `#` comments are
/// skipped; a line without `=` takes its value from the environment in
/// kustomize, which a scanner must not read, so it is empty here (and the
/// key is returned in the second list so the caller can say so).
pub fn env_file(text: &str) -> (Vec<(String, String)>, Vec<String>) {
    let mut pairs = Vec::new();
    let mut from_env = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = if i == 0 {
            line.trim_start_matches('\u{feff}')
        } else {
            line
        };
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once('=') {
            Some((k, v)) => pairs.push((k.to_string(), v.to_string())),
            None => {
                pairs.push((line.to_string(), String::new()));
                from_env.push(line.to_string());
            }
        }
    }
    (pairs, from_env)
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(A[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The `data` (and `binaryData`) mappings of a generated object.
pub fn data_nodes(items: &[Item], secret: bool) -> (Vec<KEntry>, Vec<KEntry>) {
    let mut data = Vec::new();
    let mut binary = Vec::new();
    for it in items {
        let entry = |v: String| KEntry {
            key: it.key.clone(),
            at: it.at,
            node: KNode::str(v, it.at),
        };
        if secret {
            data.push(entry(base64(&it.value)));
        } else {
            match std::str::from_utf8(&it.value) {
                Ok(s) => data.push(entry(s.to_string())),
                Err(_) => binary.push(entry(base64(&it.value))),
            }
        }
    }
    (data, binary)
}

/// Sets or merges `entries` into the mapping `key` of `obj`.
pub fn merge_into(obj: &mut KNode, key: &str, entries: Vec<KEntry>, at: Loc) {
    if entries.is_empty() {
        return;
    }
    if let Some(map) = obj.child_map(key, at) {
        for e in entries {
            map.set(&e.key, e.node, e.at);
        }
    }
}

/// The suffix kustomize appends to a generated ConfigMap's or Secret's
/// name: the first ten hex digits of the SHA-256 of its identifying JSON
/// (kind, name, type, data, as Go's `encoding/json` writes them),
/// with `0 1 3 a e` changed to `g h k m t` (so it never looks like a number
/// or a word).
pub fn hash_suffix(obj: &KNode) -> String {
    let kind = obj.get("kind").and_then(KNode::as_str).unwrap_or("");
    let field = |k: &str| -> serde_json::Value {
        match obj.get(k) {
            Some(n) if matches!(n.val, Val::Map(_) | Val::Seq(_)) => n.to_json(),
            Some(n) => serde_json::Value::String(n.scalar_text().unwrap_or_default()),
            None => serde_json::Value::String(String::new()),
        }
    };
    // kustomize looks the name up as one key named `metadata/name`, which
    // no object has: the name it hashes is always empty, and the hash
    // depends on the kind, type and data only.
    let name = String::new();
    let mut m = serde_json::Map::new();
    m.insert("kind".into(), kind.into());
    m.insert("name".into(), name.into());
    m.insert("data".into(), field("data"));
    if kind == "Secret" {
        m.insert("type".into(), field("type"));
        if obj.get("stringData").is_some_and(KNode::is_map) {
            m.insert("stringData".into(), field("stringData"));
        }
    } else if obj.get("binaryData").is_some_and(KNode::is_map) {
        m.insert("binaryData".into(), field("binaryData"));
    }
    let encoded = go_json(&serde_json::Value::Object(m));
    let digest = Sha256::digest(encoded.as_bytes());
    let hex: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    hex.chars()
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            c => c,
        })
        .collect()
}

/// JSON as Go's `encoding/json` writes it: keys sorted, `<`, `>`, `&`,
/// U+2028 and U+2029 escaped.
fn go_json(v: &serde_json::Value) -> String {
    use serde_json::Value as J;
    match v {
        J::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{}:{}", go_string(k), go_json(&m[k.as_str()])))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        J::Array(a) => format!("[{}]", a.iter().map(go_json).collect::<Vec<_>>().join(",")),
        J::String(s) => go_string(s),
        other => other.to_string(),
    }
}

fn go_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_pads() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn literals_lose_matching_quotes() {
        assert_eq!(literal("a=\"x y\""), Some(("a".into(), "x y".into())));
        assert_eq!(literal("a=b=c"), Some(("a".into(), "b=c".into())));
        assert_eq!(literal("novalue"), None);
    }
}
