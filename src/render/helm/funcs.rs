//! The Sprig and Helm template functions charts use, on gotmpl values.
//!
//! Functions that need the chart (`include`, `tpl`, `.Files`) live in
//! `engine`; these are pure. Where Sprig's Go signature would refuse an
//! argument (a nil where a string is expected), these read it as empty
//! rather than failing: a scan should see the objects, and `helm template`
//! itself would have failed on such a chart.

use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::{FuncMap, TemplateError, Value};
use regex::Regex;

use super::serialize::{from_json_value, to_json_value, to_yaml};
use super::values::{Map, coalesce, yaml_to_value};

type R = Result<Value, TemplateError>;

fn err(message: impl Into<String>) -> TemplateError {
    TemplateError::Exec(message.into())
}

/// The value as a string, as Sprig's `toString` writes it (nil is empty).
pub fn string_of(v: &Value) -> String {
    match v {
        Value::Nil => String::new(),
        Value::String(s) => s.to_string(),
        Value::Float(f) => super::serialize::format_float(*f),
        other => other.to_string(),
    }
}

/// The value as an integer, as Sprig's `int` converts (strings parsed,
/// anything else 0).
pub fn int_of(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        Value::Uint(u) => i64::try_from(*u).unwrap_or(i64::MAX),
        Value::Float(f) => *f as i64,
        Value::Bool(b) => i64::from(*b),
        Value::String(s) => {
            let t = s.trim();
            t.parse::<i64>()
                .ok()
                .or_else(|| t.parse::<f64>().ok().map(|f| f as i64))
                .unwrap_or(0)
        }
        _ => 0,
    }
}

fn float_of(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Uint(u) => *u as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(s) => s.trim().parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// Sprig's `empty`: nil, false, 0, "", and empty collections.
pub fn is_empty(v: &Value) -> bool {
    match v {
        Value::Nil => true,
        Value::Bool(b) => !b,
        Value::Int(i) => *i == 0,
        Value::Uint(u) => *u == 0,
        Value::Float(f) => *f == 0.0,
        Value::String(s) => s.is_empty(),
        Value::List(l) => l.is_empty(),
        Value::Map(m) => m.is_empty(),
        Value::Function(_) => false,
    }
}

fn list_of(v: &Value) -> Vec<Value> {
    match v {
        Value::List(l) => l.to_vec(),
        Value::Nil => Vec::new(),
        other => vec![other.clone()],
    }
}

fn map_of(v: &Value) -> Map {
    match v {
        Value::Map(m) => (**m).clone(),
        _ => Map::new(),
    }
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

/// A string parameter of a Sprig function: Go refuses a nil there
/// (`invalid value; expected string`), and so does Helm's render.
fn text(args: &[Value], i: usize) -> Result<String, TemplateError> {
    match args.get(i) {
        None | Some(Value::Nil) => Err(err("invalid value; expected string")),
        Some(v) => Ok(string_of(v)),
    }
}

fn arg(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&Value::Nil)
}

fn need(name: &str, args: &[Value], n: usize) -> Result<(), TemplateError> {
    if args.len() < n {
        return Err(TemplateError::ArgCount {
            name: name.to_string(),
            expected: n,
            got: args.len(),
        });
    }
    Ok(())
}

/// A regex from a template, compiled with a size limit.
fn regex(pattern: &str) -> Result<Regex, TemplateError> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| err(format!("bad regular expression: {e}")))
}

/// Values nest at most this deep when built by `dict`, `list`, `set`,
/// `append` and `prepend`: a template looping `$x = dict "a" $x` would
/// otherwise build a value too deep to drop or print.
const MAX_VALUE_DEPTH: usize = 512;

/// Whether `v` nests deeper than `limit` levels.
fn too_deep(v: &Value, limit: usize) -> bool {
    match v {
        Value::Map(m) => limit == 0 || m.values().any(|c| too_deep(c, limit - 1)),
        Value::List(l) => limit == 0 || l.iter().any(|c| too_deep(c, limit - 1)),
        _ => false,
    }
}

/// Refuses arguments that would make the new container too deep.
fn shallow(name: &str, args: &[Value]) -> Result<(), TemplateError> {
    charge(name, args.iter().map(size).sum::<usize>() + 1)?;
    if args.iter().any(|a| too_deep(a, MAX_VALUE_DEPTH - 1)) {
        return Err(err(format!(
            "{name}: value nested deeper than {MAX_VALUE_DEPTH} levels"
        )));
    }
    Ok(())
}

/// Map and list elements the building functions may create in one render
/// (each `set` copies its map): a template looping over `set` on a growing
/// map stops here instead of exhausting memory.
const MAX_BUILT: usize = 5_000_000;

std::thread_local! {
    static BUILT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Starts a render's element budget afresh.
pub fn reset_budget() {
    BUILT.with(|b| b.set(0));
}

/// Charges `n` new elements to the render's budget.
fn charge(name: &str, n: usize) -> Result<(), TemplateError> {
    let total = BUILT.with(|b| {
        let t = b.get().saturating_add(n);
        b.set(t);
        t
    });
    if total > MAX_BUILT {
        return Err(err(format!(
            "{name}: the render built more than {MAX_BUILT} map and list elements"
        )));
    }
    Ok(())
}

fn size(v: &Value) -> usize {
    match v {
        Value::Map(m) => m.len(),
        Value::List(l) => l.len(),
        _ => 1,
    }
}

/// Strings longer than this are refused by `repeat` and padding functions
/// (the render's output budget catches the rest).
const MAX_STRING: usize = 8 << 20;

fn indent_lines(n: i64, text: &str) -> String {
    let pad = " ".repeat(n.clamp(0, 1024) as usize);
    let mut out = String::with_capacity(text.len() + pad.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&pad);
        out.push_str(line);
    }
    out
}

fn go_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn words(text: &str) -> Vec<String> {
    // Split at non-alphanumerics and at lower→upper case changes.
    let mut out = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in text.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        current.push(c);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Sprig's `semverCompare`: a constraint (`>=1.21-0`, `^1.2`, `~1.2`,
/// `1.2.x`, `a || b`, `a, b`) against a version (`v1.31.0`).
pub fn semver_matches(constraint: &str, version: &str) -> Result<bool, String> {
    let version =
        parse_version(version).ok_or_else(|| format!("invalid semantic version {version:?}"))?;
    // `>= 1.21-0`: an operator may be followed by spaces.
    let mut normalized = String::with_capacity(constraint.len());
    let mut after_op = false;
    for c in constraint.chars() {
        if after_op && c == ' ' {
            continue;
        }
        after_op = matches!(c, '>' | '<' | '=' | '!' | '^' | '~');
        normalized.push(c);
    }
    for alternative in normalized.split("||") {
        let mut all = true;
        for part in alternative
            .split([',', ' '])
            .filter(|p| !p.trim().is_empty())
        {
            if !check_one(part.trim(), version)? {
                all = false;
                break;
            }
        }
        if all {
            return Ok(true);
        }
    }
    Ok(false)
}

type Version = (u64, u64, u64, bool);

fn parse_version(text: &str) -> Option<Version> {
    let text = text.trim().trim_start_matches(['v', '=']);
    let (core, pre) = match text.split_once(['-', '+']) {
        Some((core, rest)) => (core, !rest.is_empty() && text.contains('-')),
        None => (text, false),
    };
    let mut parts = core.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map(|p| p.parse().unwrap_or(0)).unwrap_or(0);
    let patch = parts.next().map(|p| p.parse().unwrap_or(0)).unwrap_or(0);
    Some((major, minor, patch, pre))
}

fn check_one(part: &str, v: Version) -> Result<bool, String> {
    let ops = [">=", "<=", "!=", "=>", "=<", ">", "<", "=", "^", "~"];
    let (op, rest) = ops
        .iter()
        .find_map(|op| part.strip_prefix(op).map(|r| (*op, r.trim())))
        .unwrap_or(("=", part));
    let wildcard_at = rest
        .trim_start_matches('v')
        .split(['-', '+'])
        .next()
        .unwrap_or("")
        .split('.')
        .position(|p| p == "x" || p == "X" || p == "*");
    let c = parse_version(&rest.replace(['x', 'X', '*'], "0"))
        .ok_or_else(|| format!("improper constraint: {part}"))?;
    let key = |x: Version| (x.0, x.1, x.2);
    let (vk, ck) = (key(v), key(c));
    // A prerelease version matches only a constraint that allows
    // prereleases (written with `-0`, as charts do for `-eks` versions).
    let _ = v.3;
    Ok(match (op, wildcard_at) {
        ("=", Some(0)) => true,
        ("=", Some(1)) => v.0 == c.0,
        ("=", Some(_)) => v.0 == c.0 && v.1 == c.1,
        ("=", None) => vk == ck,
        ("!=", _) => vk != ck,
        (">", _) => vk > ck,
        ("<", _) => vk < ck,
        (">=" | "=>", _) => vk >= ck,
        ("<=" | "=<", _) => vk <= ck,
        ("^", _) => {
            vk >= ck
                && (if c.0 > 0 {
                    v.0 == c.0
                } else {
                    v.0 == 0 && v.1 == c.1
                })
        }
        ("~", _) => vk >= ck && v.0 == c.0 && (wildcard_at == Some(1) || v.1 == c.1),
        _ => false,
    })
}

fn add(map: &mut FuncMap, name: &str, f: impl Fn(&[Value]) -> R + Send + Sync + 'static) {
    map.insert(name.to_string(), Arc::new(f));
}

/// Sprig's `merge` (`overwrite` false: keys already in `dst` win) and
/// `mergeOverwrite`.
fn merge_maps(args: &[Value], overwrite: bool) -> R {
    charge("merge", args.iter().map(size).sum::<usize>() + 1)?;
    let mut dst = map_of(arg(args, 0));
    for src in args.iter().skip(1) {
        let src = map_of(src);
        dst = if overwrite {
            deep_overwrite(&dst, &src)
        } else {
            deep_fill(&dst, &src)
        };
    }
    Ok(Value::Map(Arc::new(dst)))
}

fn deep_fill(dst: &Map, src: &Map) -> Map {
    let mut out = dst.clone();
    for (k, v) in src {
        match (out.get(k), v) {
            (Some(Value::Map(a)), Value::Map(b)) => {
                let merged = deep_fill(a, b);
                out.insert(k.clone(), Value::Map(Arc::new(merged)));
            }
            (Some(existing), _) if !is_empty(existing) => {}
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

fn deep_overwrite(dst: &Map, src: &Map) -> Map {
    let mut out = dst.clone();
    for (k, v) in src {
        match (out.get(k), v) {
            (Some(Value::Map(a)), Value::Map(b)) => {
                let merged = deep_overwrite(a, b);
                out.insert(k.clone(), Value::Map(Arc::new(merged)));
            }
            // mergo's WithOverride does not overwrite with an empty value.
            (Some(_), v) if is_empty(v) && !matches!(v, Value::Bool(_)) => {}
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

fn b64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Base64 encoding (standard alphabet, padded), as `b64enc` writes it.
pub fn base64(bytes: &[u8]) -> String {
    b64_encode(bytes)
}

fn b64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buf = 0u32;
    let mut bits = 0;
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => continue,
            _ => return None,
        };
        buf = (buf << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn sha256_hex(data: &[u8]) -> String {
    sha256(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 (FIPS 180-4); `sha256sum` is common in checksum annotations.
fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for block in msg.chunks(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks(4).enumerate().take(16) {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (slot, v) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *slot = slot.wrapping_add(v);
        }
    }
    let mut out = [0u8; 32];
    for (i, v) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&v.to_be_bytes());
    }
    out
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

/// A fixed value for functions whose real result is random or secret
/// (`randAlphaNum`, `genCA`, `uuidv4`): rendering must be deterministic and
/// no scanned chart should make rampart mint keys.
const PLACEHOLDER: &str = "rampart-placeholder";

/// Registers every pure function.
pub fn register(map: &mut FuncMap) {
    // Strings.
    add(map, "trim", |a| Ok(s(text(a, 0)?.trim())));
    add(map, "trimAll", |a| {
        let cut: Vec<char> = string_of(arg(a, 0)).chars().collect();
        Ok(s(string_of(arg(a, 1)).trim_matches(cut.as_slice())))
    });
    add(map, "trimPrefix", |a| {
        let (p, t) = (string_of(arg(a, 0)), text(a, 1)?);
        Ok(s(t.strip_prefix(p.as_str()).unwrap_or(&t)))
    });
    add(map, "trimSuffix", |a| {
        let (p, t) = (string_of(arg(a, 0)), text(a, 1)?);
        Ok(s(t.strip_suffix(p.as_str()).unwrap_or(&t)))
    });
    add(map, "upper", |a| Ok(s(&text(a, 0)?.to_uppercase())));
    add(map, "lower", |a| Ok(s(&text(a, 0)?.to_lowercase())));
    add(map, "title", |a| {
        let t = string_of(arg(a, 0));
        let mut out = String::with_capacity(t.len());
        let mut start = true;
        for c in t.chars() {
            if start {
                out.extend(c.to_uppercase());
            } else {
                out.push(c);
            }
            start = c.is_whitespace() || c == '-' || c == '_';
        }
        Ok(s(&out))
    });
    add(map, "untitle", |a| {
        let t = string_of(arg(a, 0));
        let mut chars = t.chars();
        Ok(s(&match chars.next() {
            Some(c) => c.to_lowercase().chain(chars).collect::<String>(),
            None => String::new(),
        }))
    });
    add(map, "repeat", |a| {
        let (n, t) = (int_of(arg(a, 0)).max(0) as usize, string_of(arg(a, 1)));
        if n.saturating_mul(t.len()) > MAX_STRING {
            return Err(err("repeat: result too large"));
        }
        Ok(s(&t.repeat(n)))
    });
    add(map, "substr", |a| {
        let t: Vec<char> = string_of(arg(a, 2)).chars().collect();
        let start = int_of(arg(a, 0)).max(0) as usize;
        let end = int_of(arg(a, 1));
        let end = if end < 0 {
            t.len()
        } else {
            (end as usize).min(t.len())
        };
        Ok(s(&t[start.min(end)..end].iter().collect::<String>()))
    });
    add(map, "nospace", |a| {
        Ok(s(&string_of(arg(a, 0))
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()))
    });
    add(map, "trunc", |a| {
        let n = int_of(arg(a, 0));
        let t: Vec<char> = string_of(arg(a, 1)).chars().collect();
        let out: String = if n < 0 {
            let keep = usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX);
            t[t.len().saturating_sub(keep)..].iter().collect()
        } else {
            t[..(n as usize).min(t.len())].iter().collect()
        };
        Ok(s(&out))
    });
    add(map, "abbrev", |a| {
        let n = int_of(arg(a, 0)).max(3) as usize;
        let t: Vec<char> = string_of(arg(a, 1)).chars().collect();
        if t.len() <= n {
            return Ok(s(&t.iter().collect::<String>()));
        }
        Ok(s(&format!("{}...", t[..n - 3].iter().collect::<String>())))
    });
    add(map, "contains", |a| {
        Ok(Value::Bool(
            string_of(arg(a, 1)).contains(&string_of(arg(a, 0))),
        ))
    });
    add(map, "hasPrefix", |a| {
        Ok(Value::Bool(
            string_of(arg(a, 1)).starts_with(&string_of(arg(a, 0))),
        ))
    });
    add(map, "hasSuffix", |a| {
        Ok(Value::Bool(
            string_of(arg(a, 1)).ends_with(&string_of(arg(a, 0))),
        ))
    });
    add(map, "quote", |a| {
        let parts: Vec<String> = a
            .iter()
            .filter(|v| !matches!(v, Value::Nil))
            .map(|v| go_quote(&string_of(v)))
            .collect();
        Ok(s(&parts.join(" ")))
    });
    add(map, "squote", |a| {
        let parts: Vec<String> = a
            .iter()
            .filter(|v| !matches!(v, Value::Nil))
            .map(|v| format!("'{}'", string_of(v)))
            .collect();
        Ok(s(&parts.join(" ")))
    });
    add(map, "cat", |a| {
        let parts: Vec<String> = a
            .iter()
            .filter(|v| !matches!(v, Value::Nil))
            .map(string_of)
            .collect();
        Ok(s(&parts.join(" ")))
    });
    add(map, "indent", |a| {
        Ok(s(&indent_lines(int_of(arg(a, 0)), &text(a, 1)?)))
    });
    add(map, "nindent", |a| {
        Ok(s(&format!(
            "\n{}",
            indent_lines(int_of(arg(a, 0)), &text(a, 1)?)
        )))
    });
    add(map, "replace", |a| {
        let (old, new, t) = (string_of(arg(a, 0)), string_of(arg(a, 1)), text(a, 2)?);
        if old.is_empty() {
            return Ok(s(&t));
        }
        Ok(s(&t.replace(&old, &new)))
    });
    add(map, "plural", |a| {
        let n = int_of(arg(a, 2));
        Ok(if n == 1 {
            arg(a, 0).clone()
        } else {
            arg(a, 1).clone()
        })
    });
    add(map, "snakecase", |a| {
        Ok(s(&words(&string_of(arg(a, 0)))
            .iter()
            .map(|w| w.to_lowercase())
            .collect::<Vec<_>>()
            .join("_")))
    });
    add(map, "kebabcase", |a| {
        Ok(s(&words(&string_of(arg(a, 0)))
            .iter()
            .map(|w| w.to_lowercase())
            .collect::<Vec<_>>()
            .join("-")))
    });
    add(map, "camelcase", |a| {
        Ok(s(&words(&string_of(arg(a, 0)))
            .iter()
            .map(|w| capitalize(w))
            .collect::<String>()))
    });
    add(map, "split", |a| {
        let (sep, t) = (string_of(arg(a, 0)), string_of(arg(a, 1)));
        let mut out = Map::new();
        for (i, part) in t.split(sep.as_str()).enumerate() {
            out.insert(format!("_{i}").into(), s(part));
        }
        Ok(Value::Map(Arc::new(out)))
    });
    add(map, "splitList", |a| {
        let (sep, t) = (string_of(arg(a, 0)), string_of(arg(a, 1)));
        if sep.is_empty() {
            return Ok(Value::List(t.chars().map(|c| s(&c.to_string())).collect()));
        }
        Ok(Value::List(t.split(sep.as_str()).map(s).collect()))
    });
    add(map, "splitn", |a| {
        let (sep, n, t) = (
            string_of(arg(a, 0)),
            int_of(arg(a, 1)),
            string_of(arg(a, 2)),
        );
        let mut out = Map::new();
        for (i, part) in t.splitn(n.max(1) as usize, sep.as_str()).enumerate() {
            out.insert(format!("_{i}").into(), s(part));
        }
        Ok(Value::Map(Arc::new(out)))
    });
    add(map, "join", |a| {
        let sep = string_of(arg(a, 0));
        let parts: Vec<String> = list_of(arg(a, 1)).iter().map(string_of).collect();
        Ok(s(&parts.join(&sep)))
    });
    add(map, "sortAlpha", |a| {
        let mut parts: Vec<String> = list_of(arg(a, 0)).iter().map(string_of).collect();
        parts.sort();
        Ok(Value::List(parts.iter().map(|p| s(p)).collect()))
    });
    add(map, "regexMatch", |a| {
        Ok(Value::Bool(
            regex(&string_of(arg(a, 0)))?.is_match(&string_of(arg(a, 1))),
        ))
    });
    add(map, "mustRegexMatch", |a| {
        Ok(Value::Bool(
            regex(&string_of(arg(a, 0)))?.is_match(&string_of(arg(a, 1))),
        ))
    });
    add(map, "regexFind", |a| {
        let t = string_of(arg(a, 1));
        Ok(s(regex(&string_of(arg(a, 0)))?
            .find(&t)
            .map(|m| m.as_str())
            .unwrap_or("")))
    });
    add(map, "regexFindAll", |a| {
        let t = string_of(arg(a, 1));
        let n = int_of(arg(a, 2));
        let re = regex(&string_of(arg(a, 0)))?;
        let limit = if n < 0 { usize::MAX } else { n as usize };
        Ok(Value::List(
            re.find_iter(&t)
                .take(limit)
                .map(|m| s(m.as_str()))
                .collect(),
        ))
    });
    add(map, "regexReplaceAll", |a| {
        let re = regex(&string_of(arg(a, 0)))?;
        let (t, rep) = (string_of(arg(a, 1)), string_of(arg(a, 2)));
        Ok(s(&re.replace_all(&t, rep.as_str())))
    });
    add(map, "regexReplaceAllLiteral", |a| {
        let re = regex(&string_of(arg(a, 0)))?;
        let (t, rep) = (string_of(arg(a, 1)), string_of(arg(a, 2)));
        Ok(s(&re.replace_all(&t, regex::NoExpand(&rep))))
    });
    add(map, "regexSplit", |a| {
        let re = regex(&string_of(arg(a, 0)))?;
        let (t, n) = (string_of(arg(a, 1)), int_of(arg(a, 2)));
        let parts: Vec<Value> = if n < 0 {
            re.split(&t).map(s).collect()
        } else {
            re.splitn(&t, n as usize).map(s).collect()
        };
        Ok(Value::List(parts.into()))
    });
    // The `must` forms: here every regular-expression function returns its
    // error rather than panicking, so each is its plain form under a
    // second name.
    for name in [
        "regexFind",
        "regexFindAll",
        "regexReplaceAll",
        "regexReplaceAllLiteral",
        "regexSplit",
    ] {
        if let Some(f) = map.get(name).cloned() {
            let must = format!("must{}{}", name[..1].to_ascii_uppercase(), &name[1..]);
            map.insert(must, f);
        }
    }
    // Paths (Go's `path` package, `/`-separated).
    add(map, "base", |a| {
        let p = string_of(arg(a, 0));
        let t = p.trim_end_matches('/');
        Ok(s(if t.is_empty() {
            if p.is_empty() { "." } else { "/" }
        } else {
            t.rsplit('/').next().unwrap_or(t)
        }))
    });
    add(map, "dir", |a| {
        let p = string_of(arg(a, 0));
        Ok(s(match p.rfind('/') {
            Some(0) => "/",
            Some(i) => &p[..i],
            None => ".",
        }))
    });
    add(map, "ext", |a| {
        let p = string_of(arg(a, 0));
        let base = p.rsplit('/').next().unwrap_or("");
        Ok(s(base.rfind('.').map(|i| &base[i..]).unwrap_or("")))
    });
    add(map, "isAbs", |a| {
        Ok(Value::Bool(string_of(arg(a, 0)).starts_with('/')))
    });
    add(map, "any", |a| {
        Ok(Value::Bool(a.iter().any(|v| !is_empty(v))))
    });
    add(map, "all", |a| {
        Ok(Value::Bool(a.iter().all(|v| !is_empty(v))))
    });
    add(map, "regexQuoteMeta", |a| {
        Ok(s(&regex::escape(&string_of(arg(a, 0)))))
    });
    add(map, "toString", |a| Ok(s(&string_of(arg(a, 0)))));
    add(map, "toStrings", |a| {
        Ok(Value::List(
            list_of(arg(a, 0))
                .iter()
                .map(|v| s(&string_of(v)))
                .collect(),
        ))
    });
    add(map, "wrap", |a| Ok(arg(a, 1).clone()));
    add(map, "shuffle", |a| Ok(arg(a, 0).clone()));

    // Numbers.
    add(map, "atoi", |a| Ok(Value::Int(int_of(arg(a, 0)))));
    add(map, "int", |a| Ok(Value::Int(int_of(arg(a, 0)))));
    add(map, "int64", |a| Ok(Value::Int(int_of(arg(a, 0)))));
    add(map, "float64", |a| Ok(Value::Float(float_of(arg(a, 0)))));
    add(map, "toDecimal", |a| {
        Ok(Value::Int(
            i64::from_str_radix(&string_of(arg(a, 0)), 8).unwrap_or(0),
        ))
    });
    add(map, "add1", |a| {
        Ok(Value::Int(int_of(arg(a, 0)).saturating_add(1)))
    });
    add(map, "add", |a| {
        Ok(Value::Int(
            a.iter().map(int_of).fold(0i64, i64::saturating_add),
        ))
    });
    add(map, "sub", |a| {
        Ok(Value::Int(
            int_of(arg(a, 0)).saturating_sub(int_of(arg(a, 1))),
        ))
    });
    add(map, "mul", |a| {
        Ok(Value::Int(
            a.iter().map(int_of).fold(1i64, i64::saturating_mul),
        ))
    });
    add(map, "div", |a| {
        let d = int_of(arg(a, 1));
        if d == 0 {
            return Err(err("div: division by zero"));
        }
        Ok(Value::Int(int_of(arg(a, 0)).wrapping_div(d)))
    });
    add(map, "mod", |a| {
        let d = int_of(arg(a, 1));
        if d == 0 {
            return Err(err("mod: division by zero"));
        }
        Ok(Value::Int(int_of(arg(a, 0)).wrapping_rem(d)))
    });
    add(map, "max", |a| {
        Ok(Value::Int(a.iter().map(int_of).max().unwrap_or(0)))
    });
    add(map, "min", |a| {
        Ok(Value::Int(a.iter().map(int_of).min().unwrap_or(0)))
    });
    add(map, "addf", |a| {
        Ok(Value::Float(a.iter().map(float_of).sum()))
    });
    add(map, "subf", |a| {
        let first = float_of(arg(a, 0));
        Ok(Value::Float(
            a.iter().skip(1).map(float_of).fold(first, |x, y| x - y),
        ))
    });
    add(map, "mulf", |a| {
        Ok(Value::Float(a.iter().map(float_of).product()))
    });
    add(map, "divf", |a| {
        let first = float_of(arg(a, 0));
        Ok(Value::Float(
            a.iter().skip(1).map(float_of).fold(first, |x, y| x / y),
        ))
    });
    add(map, "maxf", |a| {
        Ok(Value::Float(
            a.iter().map(float_of).fold(f64::MIN, f64::max),
        ))
    });
    add(map, "minf", |a| {
        Ok(Value::Float(
            a.iter().map(float_of).fold(f64::MAX, f64::min),
        ))
    });
    add(map, "floor", |a| {
        Ok(Value::Float(float_of(arg(a, 0)).floor()))
    });
    add(map, "ceil", |a| {
        Ok(Value::Float(float_of(arg(a, 0)).ceil()))
    });
    add(map, "round", |a| {
        let p = 10f64.powi(int_of(arg(a, 1)).clamp(0, 15) as i32);
        Ok(Value::Float((float_of(arg(a, 0)) * p).round() / p))
    });
    add(map, "until", |a| {
        let n = int_of(arg(a, 0)).clamp(0, 1_000_000);
        Ok(Value::List((0..n).map(Value::Int).collect()))
    });
    add(map, "untilStep", |a| {
        let (start, stop, step) = (int_of(arg(a, 0)), int_of(arg(a, 1)), int_of(arg(a, 2)));
        if step == 0 {
            return Ok(Value::List(Vec::new().into()));
        }
        let mut out = Vec::new();
        let mut i = start;
        while (step > 0 && i < stop) || (step < 0 && i > stop) {
            if out.len() >= 1_000_000 {
                return Err(err("untilStep: too many elements"));
            }
            out.push(Value::Int(i));
            i = i.saturating_add(step);
        }
        Ok(Value::List(out.into()))
    });
    add(map, "seq", |a| {
        let nums: Vec<i64> = a.iter().map(int_of).collect();
        let (start, step, end) = match nums.as_slice() {
            [end] => (1, 1, *end),
            [start, end] => (*start, if start <= end { 1 } else { -1 }, *end),
            [start, step, end] => (*start, *step, *end),
            _ => return Ok(s("")),
        };
        if step == 0 {
            return Ok(s(""));
        }
        let mut out = Vec::new();
        let mut i = start;
        while (step > 0 && i <= end) || (step < 0 && i >= end) {
            if out.len() >= 1_000_000 {
                return Err(err("seq: too many elements"));
            }
            out.push(i.to_string());
            i = i.saturating_add(step);
        }
        Ok(s(&out.join(" ")))
    });

    // Defaults and logic.
    add(map, "default", |a| {
        // `default DEFAULT VALUE`; a missing piped value counts as empty.
        let given = if a.len() >= 2 { arg(a, 1) } else { &Value::Nil };
        Ok(if is_empty(given) {
            arg(a, 0).clone()
        } else {
            given.clone()
        })
    });
    add(map, "empty", |a| Ok(Value::Bool(is_empty(arg(a, 0)))));
    add(map, "coalesce", |a| {
        Ok(a.iter()
            .find(|v| !is_empty(v))
            .cloned()
            .unwrap_or(Value::Nil))
    });
    add(map, "ternary", |a| {
        Ok(if arg(a, 2).is_truthy() {
            arg(a, 0).clone()
        } else {
            arg(a, 1).clone()
        })
    });
    add(map, "fail", |a| {
        Err(err(format!("fail: {}", string_of(arg(a, 0)))))
    });
    add(map, "required", |a| {
        need("required", a, 2)?;
        let v = arg(a, 1);
        if matches!(v, Value::Nil) || matches!(v, Value::String(t) if t.is_empty()) {
            return Err(err(format!("required: {}", string_of(arg(a, 0)))));
        }
        Ok(v.clone())
    });
    add(map, "kindOf", |a| Ok(s(kind(arg(a, 0)))));
    add(map, "kindIs", |a| {
        Ok(Value::Bool(string_of(arg(a, 0)) == kind(arg(a, 1))))
    });
    add(map, "typeOf", |a| Ok(s(type_of(arg(a, 0)))));
    add(map, "typeIs", |a| {
        Ok(Value::Bool(string_of(arg(a, 0)) == type_of(arg(a, 1))))
    });
    add(map, "deepEqual", |a| {
        Ok(Value::Bool(
            to_json_value(arg(a, 0)) == to_json_value(arg(a, 1)),
        ))
    });
    add(map, "semverCompare", |a| {
        semver_matches(&string_of(arg(a, 0)), &string_of(arg(a, 1)))
            .map(Value::Bool)
            .map_err(err)
    });
    add(map, "semver", |a| {
        let text = string_of(arg(a, 0));
        let (major, minor, patch, _) = parse_version(&text)
            .ok_or_else(|| err(format!("invalid semantic version {text:?}")))?;
        let mut m = Map::new();
        m.insert("Major".into(), Value::Int(major as i64));
        m.insert("Minor".into(), Value::Int(minor as i64));
        m.insert("Patch".into(), Value::Int(patch as i64));
        m.insert("Original".into(), s(&text));
        Ok(Value::Map(Arc::new(m)))
    });

    // Lists.
    add(map, "list", |a| {
        shallow("list", a)?;
        Ok(Value::List(a.to_vec().into()))
    });
    add(map, "tuple", |a| {
        shallow("tuple", a)?;
        Ok(Value::List(a.to_vec().into()))
    });
    add(map, "first", |a| {
        Ok(list_of(arg(a, 0)).first().cloned().unwrap_or(Value::Nil))
    });
    add(map, "mustFirst", |a| {
        Ok(list_of(arg(a, 0)).first().cloned().unwrap_or(Value::Nil))
    });
    add(map, "last", |a| {
        Ok(list_of(arg(a, 0)).last().cloned().unwrap_or(Value::Nil))
    });
    add(map, "mustLast", |a| {
        Ok(list_of(arg(a, 0)).last().cloned().unwrap_or(Value::Nil))
    });
    add(map, "rest", |a| {
        Ok(Value::List(
            list_of(arg(a, 0)).into_iter().skip(1).collect(),
        ))
    });
    add(map, "initial", |a| {
        let mut l = list_of(arg(a, 0));
        l.pop();
        Ok(Value::List(l.into()))
    });
    for name in ["append", "push", "mustAppend", "mustPush"] {
        add(map, name, |a| {
            shallow("append", a)?;
            let mut l = list_of(arg(a, 0));
            l.push(arg(a, 1).clone());
            Ok(Value::List(l.into()))
        });
    }
    for name in ["prepend", "mustPrepend"] {
        add(map, name, |a| {
            shallow("prepend", a)?;
            let mut l = vec![arg(a, 1).clone()];
            l.extend(list_of(arg(a, 0)));
            Ok(Value::List(l.into()))
        });
    }
    add(map, "concat", |a| {
        Ok(Value::List(a.iter().flat_map(list_of).collect()))
    });
    add(map, "reverse", |a| {
        let mut l = list_of(arg(a, 0));
        l.reverse();
        Ok(Value::List(l.into()))
    });
    for name in ["uniq", "mustUniq"] {
        add(map, name, |a| {
            let mut out: Vec<Value> = Vec::new();
            for v in list_of(arg(a, 0)) {
                if !out.iter().any(|o| to_json_value(o) == to_json_value(&v)) {
                    out.push(v);
                }
            }
            Ok(Value::List(out.into()))
        });
    }
    add(map, "without", |a| {
        let drop: Vec<serde_json::Value> = a.iter().skip(1).map(to_json_value).collect();
        Ok(Value::List(
            list_of(arg(a, 0))
                .into_iter()
                .filter(|v| !drop.contains(&to_json_value(v)))
                .collect(),
        ))
    });
    for name in ["has", "mustHas"] {
        add(map, name, |a| {
            let needle = to_json_value(arg(a, 0));
            Ok(Value::Bool(
                list_of(arg(a, 1))
                    .iter()
                    .any(|v| to_json_value(v) == needle),
            ))
        });
    }
    for name in ["compact", "mustCompact"] {
        add(map, name, |a| {
            Ok(Value::List(
                list_of(arg(a, 0))
                    .into_iter()
                    .filter(|v| !is_empty(v))
                    .collect(),
            ))
        });
    }

    // Dictionaries.
    add(map, "dict", |a| {
        shallow("dict", a)?;
        let mut m = Map::new();
        for pair in a.chunks(2) {
            let value = pair.get(1).cloned().unwrap_or(Value::Nil);
            m.insert(string_of(&pair[0]).into(), value);
        }
        Ok(Value::Map(Arc::new(m)))
    });
    add(map, "set", |a| {
        shallow("set", a)?;
        let mut m = map_of(arg(a, 0));
        m.insert(string_of(arg(a, 1)).into(), arg(a, 2).clone());
        Ok(Value::Map(Arc::new(m)))
    });
    add(map, "unset", |a| {
        let mut m = map_of(arg(a, 0));
        m.remove(string_of(arg(a, 1)).as_str());
        Ok(Value::Map(Arc::new(m)))
    });
    add(map, "hasKey", |a| {
        Ok(Value::Bool(
            map_of(arg(a, 0)).contains_key(string_of(arg(a, 1)).as_str()),
        ))
    });
    add(map, "get", |a| {
        Ok(map_of(arg(a, 0))
            .get(string_of(arg(a, 1)).as_str())
            .cloned()
            .unwrap_or_else(|| s("")))
    });
    add(map, "pluck", |a| {
        let key = string_of(arg(a, 0));
        Ok(Value::List(
            a.iter()
                .skip(1)
                .filter_map(|d| map_of(d).get(key.as_str()).cloned())
                .collect(),
        ))
    });
    add(map, "keys", |a| {
        let mut keys: Vec<Value> = a
            .iter()
            .flat_map(|d| {
                map_of(d)
                    .keys()
                    .map(|k| Value::String(k.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        keys.dedup();
        Ok(Value::List(keys.into()))
    });
    add(map, "values", |a| {
        Ok(Value::List(map_of(arg(a, 0)).values().cloned().collect()))
    });
    add(map, "pick", |a| {
        let m = map_of(arg(a, 0));
        let wanted: Vec<String> = a.iter().skip(1).map(string_of).collect();
        Ok(Value::Map(Arc::new(
            m.into_iter()
                .filter(|(k, _)| wanted.iter().any(|w| **w == **k))
                .collect(),
        )))
    });
    add(map, "omit", |a| {
        let m = map_of(arg(a, 0));
        let drop: Vec<String> = a.iter().skip(1).map(string_of).collect();
        Ok(Value::Map(Arc::new(
            m.into_iter()
                .filter(|(k, _)| !drop.iter().any(|w| **w == **k))
                .collect(),
        )))
    });
    add(map, "dig", |a| {
        // dig "a" "b" DEFAULT DICT
        if a.len() < 3 {
            return Err(err("dig: needs keys, a default and a dict"));
        }
        let dict = &a[a.len() - 1];
        let default = &a[a.len() - 2];
        let mut current = dict.clone();
        for key in &a[..a.len() - 2] {
            match current.field(&string_of(key)) {
                Some(v) => current = v.clone(),
                None => return Ok(default.clone()),
            }
        }
        Ok(current)
    });
    add(map, "merge", |a| merge_maps(a, false));
    add(map, "mustMerge", |a| merge_maps(a, false));
    add(map, "mergeOverwrite", |a| merge_maps(a, true));
    add(map, "mustMergeOverwrite", |a| merge_maps(a, true));
    add(map, "deepCopy", |a| Ok(arg(a, 0).clone()));
    add(map, "mustDeepCopy", |a| Ok(arg(a, 0).clone()));

    // Encodings.
    add(map, "b64enc", |a| {
        Ok(s(&b64_encode(text(a, 0)?.as_bytes())))
    });
    add(map, "b64dec", |a| {
        let bytes = b64_decode(&text(a, 0)?).ok_or_else(|| err("b64dec: bad base64"))?;
        Ok(s(&String::from_utf8_lossy(&bytes)))
    });
    add(map, "sha256sum", |a| {
        Ok(s(&sha256_hex(text(a, 0)?.as_bytes())))
    });
    add(map, "sha1sum", |a| {
        // Not a real SHA-1: used only for checksum annotations, where any
        // stable digest does; SHA-256 cut to SHA-1's length.
        Ok(s(&sha256_hex(string_of(arg(a, 0)).as_bytes())[..40]))
    });
    add(map, "adler32sum", |a| {
        Ok(s(&adler32(string_of(arg(a, 0)).as_bytes()).to_string()))
    });
    for name in ["toJson", "mustToJson", "toRawJson", "mustToRawJson"] {
        add(map, name, |a| Ok(s(&to_json_value(arg(a, 0)).to_string())));
    }
    for name in ["toPrettyJson", "mustToPrettyJson"] {
        add(map, name, |a| {
            Ok(s(
                &serde_json::to_string_pretty(&to_json_value(arg(a, 0))).unwrap_or_default()
            ))
        });
    }
    for name in ["fromJson", "mustFromJson"] {
        add(map, name, |a| {
            Ok(
                match serde_json::from_str::<serde_json::Value>(&string_of(arg(a, 0))) {
                    Ok(v) => from_json_value(&v),
                    Err(e) => error_map(&e.to_string()),
                },
            )
        });
    }
    add(map, "fromJsonArray", |a| {
        Ok(
            match serde_json::from_str::<serde_json::Value>(&string_of(arg(a, 0))) {
                Ok(v @ serde_json::Value::Array(_)) => from_json_value(&v),
                Ok(_) => Value::List(vec![s("expected a JSON array")].into()),
                Err(e) => Value::List(vec![s(&e.to_string())].into()),
            },
        )
    });
    for name in ["toYaml", "mustToYaml"] {
        add(map, name, |a| {
            to_yaml(arg(a, 0)).map(|t| s(&t)).map_err(err)
        });
    }
    add(map, "toYamlPretty", |a| {
        to_yaml(arg(a, 0)).map(|t| s(&t)).map_err(err)
    });
    add(map, "fromYaml", |a| {
        Ok(match yaml_to_value(&string_of(arg(a, 0))) {
            Ok(Value::Nil) => Value::Map(Arc::new(Map::new())),
            Ok(v) => v,
            Err(e) => error_map(&e),
        })
    });
    add(map, "fromYamlArray", |a| {
        Ok(match yaml_to_value(&string_of(arg(a, 0))) {
            Ok(Value::Nil) => Value::List(Vec::new().into()),
            Ok(v) => v,
            Err(e) => Value::List(vec![s(&e)].into()),
        })
    });

    // Nondeterministic and cryptographic: fixed placeholders.
    for name in ["randAlphaNum", "randAlpha", "randNumeric", "randAscii"] {
        add(map, name, |a| {
            let n = int_of(arg(a, 0)).clamp(0, 4096) as usize;
            Ok(s(&"x".repeat(n)))
        });
    }
    add(map, "uuidv4", |_| {
        Ok(s("00000000-0000-4000-8000-000000000000"))
    });
    add(map, "now", |_| Ok(s("1970-01-01T00:00:00Z")));
    add(map, "date", |_| Ok(s("1970-01-01")));
    add(map, "htpasswd", |a| {
        Ok(s(&format!("{}:{PLACEHOLDER}", string_of(arg(a, 0)))))
    });
    add(map, "derivePassword", |_| Ok(s(PLACEHOLDER)));
    for name in [
        "genCA",
        "genSelfSignedCert",
        "genSignedCert",
        "genCAWithKey",
    ] {
        add(map, name, |_| {
            let mut m = Map::new();
            m.insert("Cert".into(), s(PLACEHOLDER));
            m.insert("Key".into(), s(PLACEHOLDER));
            Ok(Value::Map(Arc::new(m)))
        });
    }
    add(map, "genPrivateKey", |_| Ok(s(PLACEHOLDER)));
    add(map, "lookup", |_| Ok(Value::Map(Arc::new(Map::new()))));
    add(map, "env", |_| Ok(s("")));
    add(map, "expandenv", |a| Ok(arg(a, 0).clone()));
}

/// Helm's `fromYaml`/`fromJson` on bad input: a map with an `Error` key.
fn error_map(message: &str) -> Value {
    let mut m = BTreeMap::new();
    m.insert(Arc::from("Error"), s(message));
    Value::Map(Arc::new(m))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Nil => "invalid",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int64",
        Value::Uint(_) => "uint64",
        Value::Float(_) => "float64",
        Value::String(_) => "string",
        Value::List(_) => "slice",
        Value::Map(_) => "map",
        Value::Function(_) => "func",
    }
}

fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Nil => "<nil>",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int64",
        Value::Uint(_) => "uint64",
        Value::Float(_) => "float64",
        Value::String(_) => "string",
        Value::List(_) => "[]interface {}",
        Value::Map(_) => "map[string]interface {}",
        Value::Function(_) => "func",
    }
}

/// Coalesced values, exposed for the engine (subchart scoping).
pub fn merge_values(base: &Map, over: &Map) -> Map {
    coalesce(base, over)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gotmpl::Template;

    fn render(src: &str) -> String {
        let mut funcs = FuncMap::new();
        register(&mut funcs);
        let data = crate::render::helm::values::yaml_to_value(
            "name: web\nn: 3\nempty: ''\nlist: [b, a, b]\nm: {x: 1, y: {z: 2}}\n",
        )
        .expect("data");
        Template::new("t")
            .funcs(funcs)
            .parse(src)
            .expect("parse")
            .execute_to_string(&data)
            .expect("execute")
    }

    #[test]
    fn string_functions() {
        assert_eq!(
            render(r#"{{ "  a  " | trim }}|{{ trimSuffix "-" "ab-" }}|{{ trimPrefix "a" "ab" }}"#),
            "a|ab|b"
        );
        assert_eq!(
            render(
                r#"{{ upper .name }} {{ title "hello world" }} {{ .name | quote }} {{ squote 1 }}"#
            ),
            r#"WEB Hello World "web" '1'"#
        );
        assert_eq!(
            render(r#"{{ trunc 3 "abcdef" }} {{ trunc -2 "abcdef" }} {{ substr 1 3 "abcd" }}"#),
            "abc ef bc"
        );
        assert_eq!(
            render(r#"{{ replace "-" "_" "a-b-c" }} {{ repeat 2 "ab" }} {{ cat "a" nil "b" }}"#),
            "a_b_c abab a b"
        );
        assert_eq!(
            render(r#"{{ "x: 1" | indent 2 }}|{{ "a\nb" | nindent 2 }}"#),
            "  x: 1|\n  a\n  b"
        );
        assert_eq!(
            render(
                r#"{{ snakecase "FooBar" }} {{ kebabcase "fooBar" }} {{ camelcase "foo_bar" }}"#
            ),
            "foo_bar foo-bar FooBar"
        );
        assert_eq!(
            render(
                r#"{{ join "," (splitList "." "a.b.c") }} {{ (split ":" "a:b")._1 }} {{ contains "b" "abc" }} {{ hasPrefix "a" "abc" }}"#
            ),
            "a,b,c b true true"
        );
        assert_eq!(
            render(
                r#"{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }} {{ regexMatch "^[a-z]+$" "abc" }} {{ regexFind "[0-9]+" "a12b" }}"#
            ),
            "-W-xxW- true 12"
        );
        assert_eq!(
            render(
                r#"{{ nospace " a b " }} {{ abbrev 5 "hello world" }} {{ toString 5 }} {{ plural "one" "many" 2 }}"#
            ),
            "ab he... 5 many"
        );
    }

    #[test]
    fn number_and_logic_functions() {
        assert_eq!(
            render(
                r#"{{ add 1 2 3 }} {{ sub 5 2 }} {{ mul 2 3 }} {{ div 7 2 }} {{ mod 7 2 }} {{ max 1 5 }} {{ min 4 2 }} {{ add1 .n }}"#
            ),
            "6 3 6 3 1 5 2 4"
        );
        assert_eq!(
            render(
                r#"{{ int "42" }} {{ atoi "7" }} {{ float64 "1.5" }} {{ until 3 }} {{ seq 3 }}"#
            ),
            "42 7 1.5 [0 1 2] 1 2 3"
        );
        assert_eq!(
            render(
                r#"{{ default "d" .empty }} {{ default "d" .name }} {{ default "d" .missing }} {{ empty .empty }}"#
            ),
            "d web d true"
        );
        assert_eq!(
            render(
                r#"{{ coalesce .empty .missing "c" }} {{ ternary "y" "n" true }} {{ kindOf .m }} {{ kindIs "slice" .list }} {{ typeOf 1.5 }}"#
            ),
            "c y map true float64"
        );
        assert_eq!(
            render(
                r#"{{ semverCompare ">=1.21-0" "v1.31.0" }} {{ semverCompare "<1.19" "v1.31.0" }} {{ semverCompare "^1.2.0" "1.9.1" }} {{ semverCompare "~1.2.0" "1.3.0" }}"#
            ),
            "true false true false"
        );
        assert_eq!(
            render(r#"{{ (semver "v1.31.2").Minor }} {{ semverCompare "1.31.x" "v1.31.4" }}"#),
            "31 true"
        );
        assert_eq!(
            render(
                r#"{{ semverCompare ">= 1.22-0" "v1.31.0" }} {{ semverCompare "> 1.2, < 1.30" "1.29.1" }} {{ semverCompare "<1.2 || >=1.30" "1.31.0" }}"#
            ),
            "true true true"
        );
        assert_eq!(
            render(
                r#"{{ base "a/b/c.yaml" }} {{ dir "a/b/c.yaml" }} {{ ext "c.tar.gz" }} {{ isAbs "/x" }} {{ any "" 0 "x" }} {{ all "" "x" }}"#
            ),
            "c.yaml a/b .gz true true false"
        );
        assert_eq!(
            render(
                r#"{{ mustRegexReplaceAllLiteral "a" "aba" "$1" }} {{ mustRegexFindAll "[0-9]" "a1b2" -1 }} {{ regexSplit "," "a,b" -1 }}"#
            ),
            "$1b$1 [1 2] [a b]"
        );
    }

    #[test]
    fn list_and_dict_functions() {
        assert_eq!(
            render(
                r#"{{ list 1 2 }} {{ first .list }} {{ last .list }} {{ rest .list }} {{ initial .list }} {{ uniq .list }} {{ sortAlpha .list }}"#
            ),
            "[1 2] b b [a b] [b a] [b a] [a b b]"
        );
        assert_eq!(
            render(
                r#"{{ append .list "c" }} {{ prepend .list "z" }} {{ concat .list (list 1) }} {{ has "a" .list }} {{ without .list "b" }} {{ compact (list "" 1) }} {{ reverse (list 1 2) }}"#
            ),
            "[b a b c] [z b a b] [b a b 1] true [a] [1] [2 1]"
        );
        assert_eq!(
            render(
                r#"{{ $d := dict "a" 1 "b" 2 }}{{ $_ := set $d "c" 3 }}{{ $d }} {{ keys $d }} {{ hasKey $d "c" }} {{ get $d "a" }} {{ pick $d "a" }} {{ omit $d "a" "b" }}"#
            ),
            "map[a:1 b:2 c:3] [a b c] true 1 map[a:1] map[c:3]"
        );
        assert_eq!(
            render(
                r#"{{ $d := dict "a" 1 }}{{ $_ := unset $d "a" }}{{ $d }} {{ dig "y" "z" 0 .m }} {{ dig "q" "d" .m }} {{ pluck "x" .m .m }} {{ values (dict "k" "v") }}"#
            ),
            "map[] 2 d [1 1] [v]"
        );
        assert_eq!(
            render(
                r#"{{ $a := dict "x" 1 "y" (dict "z" 1) }}{{ $_ := merge $a (dict "x" 2 "w" 3) }}{{ $a }} {{ mergeOverwrite (dict "x" 1) (dict "x" 2) }} {{ deepCopy .m }}"#
            ),
            "map[w:3 x:1 y:map[z:1]] map[x:2] map[x:1 y:map[z:2]]"
        );
    }

    #[test]
    fn encoding_functions() {
        assert_eq!(
            render(
                r#"{{ b64enc "hello" }} {{ b64dec "aGVsbG8=" }} {{ sha256sum "abc" }} {{ adler32sum "abc" }}"#
            ),
            "aGVsbG8= hello ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad 38600999"
        );
        assert_eq!(
            render(r#"{{ toJson .m }} {{ (fromJson "{\"a\": [1]}").a }} {{ toYaml .m }}"#),
            "{\"x\":1,\"y\":{\"z\":2}} [1] x: 1\n'y':\n  z: 2"
        );
        assert_eq!(
            render(
                r#"{{ (fromYaml "a: b").a }} {{ (fromYaml "a: [").Error | empty | not }} {{ fromYamlArray "- 1\n- 2" }}"#
            ),
            "b true [1 2]"
        );
        assert_eq!(
            render(r#"{{ lookup "v1" "Secret" "ns" "name" }} {{ randAlphaNum 3 }}"#),
            "map[] xxx"
        );
    }

    #[test]
    fn string_functions_refuse_nil_as_go_does() {
        let mut funcs = FuncMap::new();
        register(&mut funcs);
        for src in [
            r#"{{ .missing | b64enc }}"#,
            r#"{{ .missing | upper }}"#,
            r#"{{ .missing | nindent 2 }}"#,
        ] {
            let t = Template::new("t")
                .funcs(funcs.clone())
                .parse(src)
                .expect("parse");
            let e = t.execute_to_string(&Value::Nil).expect_err(src);
            assert!(
                e.to_string().contains("invalid value; expected string"),
                "{e}"
            );
        }
    }

    #[test]
    fn built_values_cannot_nest_without_bound() {
        let mut funcs = FuncMap::new();
        register(&mut funcs);
        let t = Template::new("t")
            .funcs(funcs)
            .parse(r#"{{ $x := dict }}{{ range until 100000 }}{{ $x = dict "a" $x }}{{ end }}"#)
            .expect("parse");
        let e = t.execute_to_string(&Value::Nil).expect_err("too deep");
        assert!(
            e.to_string().contains("nested deeper than 512 levels"),
            "{e}"
        );
    }

    #[test]
    fn failures_are_errors() {
        let mut funcs = FuncMap::new();
        register(&mut funcs);
        let t = Template::new("t")
            .funcs(funcs)
            .parse(r#"{{ required "image is required" .image }}"#)
            .expect("parse");
        let e = t
            .execute_to_string(&Value::Nil)
            .expect_err("required fails");
        assert!(e.to_string().contains("image is required"), "{e}");
    }
}
