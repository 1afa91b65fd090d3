//! The Terraform functions configurations use to build the values queries
//! look at. A function rampart does not know yields unknown, not an error.

use std::collections::{HashMap, HashSet};

use super::budget::Limits;
use crate::tree::{Entry, Node, Number, Object, Span, Value};

/// Terraform's own limit on the values `range` generates.
const MAX_RANGE: f64 = 1024.0;

/// Numbers from here on are not all exact in a 64-bit float: a `range`
/// there would repeat values (or never end, stepping by 1).
const EXACT_INTEGERS: f64 = 9_007_199_254_740_992.0;

/// Functions whose result can be known while some argument is not (none
/// yet: `try`, `can` and `coalesce` are handled by the evaluator).
pub fn tolerates_unknown(_name: &str) -> bool {
    false
}

fn str_of(node: &Node) -> Option<String> {
    match &node.value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn num_of(node: &Node) -> Option<f64> {
    match &node.value {
        Value::Number(n) => Some(n.as_f64()),
        Value::String(s) => s.trim().parse().ok().filter(|f: &f64| f.is_finite()),
        _ => None,
    }
}

fn number(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9e15 {
        Value::Number(Number::Int(f as i64))
    } else {
        Value::Number(Number::Float(f))
    }
}

/// Why calling `name` on `args` would build a value past `limits`, or one
/// rampart cannot compute exactly (a diagnostic's words); checked before anything is built, for
/// the functions whose result can be much larger than their arguments
/// (the evaluator measures every result after the call as well).
pub fn over_budget(name: &str, args: &[Node], limits: &Limits) -> Option<String> {
    let s = |i: usize| args.get(i).and_then(str_of);
    let too_long = |bytes: u64| {
        (bytes > limits.value_bytes).then(|| {
            format!(
                "its value would be over the evaluation budget (more than {} bytes)",
                limits.value_bytes
            )
        })
    };
    let too_many = |elements: u64| {
        (elements > limits.value_elements).then(|| {
            format!(
                "its value would be over the evaluation budget (more than {} elements)",
                limits.value_elements
            )
        })
    };
    match (name, args.len()) {
        ("join", 2) => {
            let items = args[1].as_array()?;
            let parts: u64 = items.iter().map(|i| text_len(i) as u64).sum();
            let separators =
                (items.len().saturating_sub(1) as u64).saturating_mul(s(0)?.len() as u64);
            too_long(parts.saturating_add(separators))
        }
        ("replace", 3) => {
            let (text, from, to) = (s(0)?, s(1)?, s(2)?);
            let matches = if from.is_empty() {
                text.chars().count() + 1
            } else {
                text.matches(from.as_str()).count()
            };
            too_long(
                (text.len() as u64)
                    .saturating_add((matches as u64).saturating_mul(to.len() as u64)),
            )
        }
        ("split", 2) => {
            let (sep, text) = (s(0)?, s(1)?);
            let pieces = if sep.is_empty() {
                text.chars().count() + 2
            } else {
                text.matches(sep.as_str()).count() + 1
            };
            too_many(pieces as u64)
        }
        ("jsondecode", 1) => {
            // Every element but the first follows a comma or an opening
            // bracket: an upper bound without parsing.
            let openings = s(0)?
                .bytes()
                .filter(|b| matches!(b, b',' | b'[' | b'{'))
                .count();
            too_many(openings as u64 + 1)
        }
        ("range", 1..=3) => {
            let (start, end, step) = range_arguments(args)?;
            if [start, end].iter().any(|x| x.abs() >= EXACT_INTEGERS) {
                return Some(format!(
                    "range bounds beyond {EXACT_INTEGERS} are not exact in a 64-bit float"
                ));
            }
            let count = range_count(start, end, step)?;
            (count > MAX_RANGE).then(|| {
                format!("range would give more than {MAX_RANGE} values (Terraform's limit)")
            })
        }
        _ => None,
    }
}

/// The bytes of a value converted to a string (0 when it is not one).
fn text_len(node: &Node) -> usize {
    match &node.value {
        Value::String(s) => s.len(),
        Value::Number(_) | Value::Bool(_) => 24,
        _ => 0,
    }
}

/// `range`'s (start, limit, step), with Terraform's default step: 1, or
/// -1 when the limit is below the start.
fn range_arguments(args: &[Node]) -> Option<(f64, f64, f64)> {
    let n = |i: usize| args.get(i).and_then(num_of);
    let (start, end) = match args.len() {
        1 => (0.0, n(0)?),
        _ => (n(0)?, n(1)?),
    };
    let step = match args.len() {
        3 => n(2)?,
        _ if end < start => -1.0,
        _ => 1.0,
    };
    Some((start, end, step))
}

/// How many values `range(start, end, step)` generates; `None` when
/// Terraform rejects it (a zero step, or one going the wrong way).
fn range_count(start: f64, end: f64, step: f64) -> Option<f64> {
    if step == 0.0 || (end - start) * step < 0.0 {
        return None;
    }
    let count = ((end - start) / step).ceil();
    count.is_finite().then_some(count.max(0.0))
}

/// Calls `name` on known arguments; `None` when unknown to rampart or
/// invalid (as Terraform would reject it, the value is not known).
pub fn call(name: &str, args: &[Node], at: Span) -> Option<Node> {
    let node = |value: Value| Node::new(value, at);
    let s = |i: usize| args.get(i).and_then(str_of);
    let n = |i: usize| args.get(i).and_then(num_of);
    let list = |i: usize| args.get(i).and_then(Node::as_array);
    Some(match (name, args.len()) {
        ("jsonencode", 1) => node(Value::String(args[0].to_json().to_string())),
        // JSON is YAML: a consumer parsing the result gets the same value.
        ("yamlencode", 1) => node(Value::String(args[0].to_json().to_string())),
        ("cidrsubnet", 3) => node(Value::String(cidr_subnet(&s(0)?, n(1)?, n(2)?)?)),
        ("cidrhost", 2) => node(Value::String(cidr_host(&s(0)?, n(1)?)?)),
        ("jsondecode", 1) => {
            let text = s(0)?;
            let index = crate::tree::LineIndex::new(&text);
            let parsed =
                crate::parse::json::parse(&text, &index, crate::parse::json::Strings::Plain);
            if !parsed.errors.is_empty() {
                return None;
            }
            let mut v = parsed.documents.into_iter().next()?;
            v.respan(at);
            v
        }
        ("tostring", 1) => node(Value::String(s(0)?)),
        ("tonumber", 1) => node(number(n(0)?)),
        ("tobool", 1) => node(Value::Bool(match &args[0].value {
            Value::Bool(b) => *b,
            Value::String(x) if x == "true" => true,
            Value::String(x) if x == "false" => false,
            _ => return None,
        })),
        ("tolist" | "toset", 1) => {
            let items = list(0)?.to_vec();
            if name == "toset" {
                // By their JSON text: one hash per item, not a comparison
                // with every item kept so far.
                let mut seen: HashSet<String> = HashSet::new();
                let mut out = Vec::new();
                for item in items {
                    if seen.insert(item.to_json().to_string()) {
                        out.push(item);
                    }
                }
                node(Value::Array(out))
            } else {
                node(Value::Array(items))
            }
        }
        ("tomap", 1) => {
            args[0].as_object()?;
            args[0].clone()
        }
        ("lower", 1) => node(Value::String(s(0)?.to_lowercase())),
        ("upper", 1) => node(Value::String(s(0)?.to_uppercase())),
        ("trimspace", 1) => node(Value::String(s(0)?.trim().to_string())),
        ("startswith", 2) => node(Value::Bool(s(0)?.starts_with(&s(1)?))),
        ("endswith", 2) => node(Value::Bool(s(0)?.ends_with(&s(1)?))),
        ("join", 2) => {
            let parts: Option<Vec<String>> = list(1)?.iter().map(str_of).collect();
            node(Value::String(parts?.join(&s(0)?)))
        }
        ("split", 2) => {
            let (sep, text) = (s(0)?, s(1)?);
            node(Value::Array(
                text.split(sep.as_str())
                    .map(|p| Node::new(Value::String(p.to_string()), at))
                    .collect(),
            ))
        }
        ("replace", 3) => {
            let (text, from, to) = (s(0)?, s(1)?, s(2)?);
            // `/regex/` patterns are not supported: unknown.
            if from.len() > 1 && from.starts_with('/') && from.ends_with('/') {
                return None;
            }
            node(Value::String(text.replace(&from, &to)))
        }
        ("substr", 3) => {
            let text: Vec<char> = s(0)?.chars().collect();
            let offset = n(1)? as i64;
            let length = n(2)? as i64;
            let start = if offset < 0 {
                (text.len() as i64 + offset).max(0)
            } else {
                offset
            } as usize;
            let end = if length < 0 {
                text.len()
            } else {
                (start + length as usize).min(text.len())
            };
            node(Value::String(
                text.get(start..end.max(start))?.iter().collect(),
            ))
        }
        ("format", _) if !args.is_empty() => node(Value::String(format(&s(0)?, &args[1..])?)),
        ("length", 1) => node(number(match &args[0].value {
            Value::Array(a) => a.len() as f64,
            Value::Object(o) => o.len() as f64,
            Value::String(x) => x.chars().count() as f64,
            _ => return None,
        })),
        ("keys", 1) => node(Value::Array(
            args[0]
                .as_object()?
                .entries
                .iter()
                .map(|e| Node::new(Value::String(e.key.clone()), at))
                .collect(),
        )),
        ("values", 1) => node(Value::Array(
            args[0]
                .as_object()?
                .entries
                .iter()
                .map(|e| e.value.clone())
                .collect(),
        )),
        ("lookup", 2 | 3) => match args[0].as_object()?.get(&s(1)?) {
            Some(v) => v.clone(),
            None => args.get(2)?.clone(),
        },
        ("element", 2) => {
            let items = list(0)?;
            if items.is_empty() {
                return None;
            }
            items[(n(1)? as usize) % items.len()].clone()
        }
        ("contains", 2) => {
            let needle = args[1].to_json();
            node(Value::Bool(list(0)?.iter().any(|i| i.to_json() == needle)))
        }
        ("concat", _) => {
            let mut out = Vec::new();
            for a in args {
                out.extend(a.as_array()?.iter().cloned());
            }
            node(Value::Array(out))
        }
        ("flatten", 1) => {
            fn flat(items: &[Node], out: &mut Vec<Node>) {
                for i in items {
                    match &i.value {
                        Value::Array(inner) => flat(inner, out),
                        _ => out.push(i.clone()),
                    }
                }
            }
            let mut out = Vec::new();
            flat(list(0)?, &mut out);
            node(Value::Array(out))
        }
        ("distinct", 1) => return call("toset", args, at),
        ("merge", _) => {
            let mut entries: Vec<Entry> = Vec::new();
            let mut position: HashMap<String, usize> = HashMap::new();
            for a in args {
                if matches!(a.value, Value::Null) {
                    continue;
                }
                for e in &a.as_object()?.entries {
                    match position.get(&e.key) {
                        Some(&i) => entries[i].value = e.value.clone(),
                        None => {
                            position.insert(e.key.clone(), entries.len());
                            entries.push(e.clone());
                        }
                    }
                }
            }
            node(Value::Object(Object { entries }))
        }
        ("coalescelist", _) => args
            .iter()
            .find(|a| a.as_array().is_some_and(|x| !x.is_empty()))?
            .clone(),
        ("min" | "max", _) if !args.is_empty() => {
            let nums: Option<Vec<f64>> = args.iter().map(num_of).collect();
            let nums = nums?;
            let pick = if name == "min" {
                nums.iter().copied().fold(f64::INFINITY, f64::min)
            } else {
                nums.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            };
            node(number(pick))
        }
        ("range", 1..=3) => {
            let (start, end, step) = range_arguments(args)?;
            if [start, end].iter().any(|x| x.abs() >= EXACT_INTEGERS) {
                return None;
            }
            // Counted, not stepped until the end: a step too small to move
            // a large start would never get there.
            let count = range_count(start, end, step)?;
            if count > MAX_RANGE {
                return None;
            }
            node(Value::Array(
                (0..count as u32)
                    .map(|i| Node::new(number(start + f64::from(i) * step), at))
                    .collect(),
            ))
        }
        ("zipmap", 2) => {
            let keys = list(0)?;
            let values = list(1)?;
            if keys.len() != values.len() {
                return None;
            }
            let mut entries = Vec::new();
            for (k, v) in keys.iter().zip(values) {
                entries.push(Entry {
                    key: str_of(k)?,
                    key_span: at,
                    value: v.clone(),
                });
            }
            node(Value::Object(Object { entries }))
        }
        _ => return None,
    })
}

/// Terraform's `format`: `%s`, `%d`, `%v`, `%q` and `%%`.
fn format(spec: &str, args: &[Node]) -> Option<String> {
    let mut out = String::new();
    let mut next = args.iter();
    let mut chars = spec.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '%' => out.push('%'),
            's' | 'v' | 'd' => out.push_str(&str_of(next.next()?)?),
            'q' => out.push_str(&format!("{:?}", str_of(next.next()?)?)),
            _ => return None,
        }
    }
    Some(out)
}

/// A CIDR as (address bits, address width, prefix length).
fn parse_cidr(text: &str) -> Option<(u128, u32, u32)> {
    let (addr, prefix) = text.split_once('/')?;
    let prefix: u32 = prefix.parse().ok()?;
    match addr.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(a) => (prefix <= 32).then_some((u128::from(u32::from(a)), 32, prefix)),
        std::net::IpAddr::V6(a) => (prefix <= 128).then_some((u128::from(a), 128, prefix)),
    }
}

fn format_addr(bits: u128, width: u32) -> String {
    if width == 32 {
        std::net::Ipv4Addr::from(bits as u32).to_string()
    } else {
        std::net::Ipv6Addr::from(bits).to_string()
    }
}

/// `cidrsubnet(prefix, newbits, netnum)`.
fn cidr_subnet(prefix: &str, newbits: f64, netnum: f64) -> Option<String> {
    let (addr, width, len) = parse_cidr(prefix)?;
    let newbits = newbits as u32;
    let new_len = len.checked_add(newbits).filter(|l| *l <= width)?;
    let netnum = netnum as u128;
    if newbits < 128 && netnum >= (1u128 << newbits) {
        return None;
    }
    let host_bits = width - new_len;
    let network_mask = if len == 0 {
        0
    } else {
        (!0u128 << (width - len)) & mask(width)
    };
    let base = addr & network_mask;
    let shifted = netnum.checked_shl(host_bits)?;
    Some(format!("{}/{new_len}", format_addr(base | shifted, width)))
}

/// `cidrhost(prefix, hostnum)`.
fn cidr_host(prefix: &str, hostnum: f64) -> Option<String> {
    let (addr, width, len) = parse_cidr(prefix)?;
    let host_bits = width - len;
    let size = if host_bits >= 128 {
        u128::MAX
    } else {
        1u128 << host_bits
    };
    let host = if hostnum < 0.0 {
        size.checked_sub((-hostnum) as u128)?
    } else {
        hostnum as u128
    };
    if host >= size {
        return None;
    }
    let network_mask = if len == 0 {
        0
    } else {
        (!0u128 << host_bits) & mask(width)
    };
    Some(format_addr((addr & network_mask) | host, width))
}

fn mask(width: u32) -> u128 {
    if width == 128 {
        u128::MAX
    } else {
        (1u128 << width) - 1
    }
}
