//! The Terraform functions configurations use to build the values queries
//! look at. A function rampart does not know yields unknown, not an error.

use crate::tree::{Entry, Node, Number, Object, Span, Value};

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
            super::respan(&mut v, at);
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
                let mut seen: Vec<serde_json::Value> = Vec::new();
                let mut out = Vec::new();
                for item in items {
                    let key = item.to_json();
                    if !seen.contains(&key) {
                        seen.push(key);
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
            for a in args {
                if matches!(a.value, Value::Null) {
                    continue;
                }
                for e in &a.as_object()?.entries {
                    match entries.iter_mut().find(|x| x.key == e.key) {
                        Some(x) => x.value = e.value.clone(),
                        None => entries.push(e.clone()),
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
            let (start, end, step) = match args.len() {
                1 => (0.0, n(0)?, 1.0),
                2 => (n(0)?, n(1)?, 1.0),
                _ => (n(0)?, n(1)?, n(2)?),
            };
            if step == 0.0 || ((end - start) / step) > 1024.0 {
                return None;
            }
            let mut out = Vec::new();
            let mut x = start;
            while (step > 0.0 && x < end) || (step < 0.0 && x > end) {
                out.push(Node::new(number(x), at));
                x += step;
            }
            node(Value::Array(out))
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
