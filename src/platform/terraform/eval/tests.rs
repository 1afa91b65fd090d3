//! The evaluator, construct by construct, with unknown propagation.

use super::*;
use crate::tree::LineIndex;

/// Evaluates `expr` with `vars` (HCL literals) and returns it as JSON text,
/// or `?` when unknown, `~` marking unknown parts of a known value.
fn eval(expr: &str, vars: &[(&str, &str)]) -> String {
    let mut scope = Scope::default();
    for (name, value) in vars {
        let source = format!("v = {value}\n");
        let index = LineIndex::new(&source);
        let parsed = crate::parse::hcl::parse(&source, &index);
        let node = parsed.documents[0].get("v").expect("value").clone();
        std::rc::Rc::make_mut(&mut scope.vars).insert((*name).to_string(), node);
    }
    std::rc::Rc::make_mut(&mut scope.locals).insert(
        "n".into(),
        Node::new(Value::Number(Number::Int(3)), Span::default()),
    );
    let source = format!("v = {expr}\n");
    let index = LineIndex::new(&source);
    let parsed = crate::parse::hcl::parse(&source, &index);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    let node = parsed.documents[0].get("v").expect("value");
    let value = eval_node(node, &scope);
    match &value.value {
        Value::Expr(_) => "?".to_string(),
        _ => show(&value),
    }
}

fn show(node: &Node) -> String {
    match &node.value {
        Value::Expr(_) => "~".into(),
        Value::Array(a) => format!("[{}]", a.iter().map(show).collect::<Vec<_>>().join(",")),
        Value::Object(o) => format!(
            "{{{}}}",
            o.entries
                .iter()
                .map(|e| format!("{}:{}", e.key, show(&e.value)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        _ => node.to_json().to_string(),
    }
}

#[test]
fn constructs() {
    let vars = [
        ("acl", "\"public-read\""),
        ("ports", "[22, 443]"),
        ("tags", "{ env = \"prod\" }"),
        ("on", "true"),
        ("rules", "[{ port = 22 }, { port = 443 }]"),
    ];
    let cases = [
        ("var.acl", "\"public-read\""),
        ("\"${var.acl}-x\"", "\"public-read-x\""),
        ("var.on ? \"a\" : \"b\"", "\"a\""),
        ("!var.on", "false"),
        ("local.n * 2 + 1", "7"),
        ("local.n / 2", "1.5"),
        ("local.n >= 3 && var.on", "true"),
        ("var.ports[1]", "443"),
        ("var.tags.env", "\"prod\""),
        ("var.tags[\"env\"]", "\"prod\""),
        ("[for p in var.ports : p + 1]", "[23,444]"),
        ("{ for k, v in var.tags : upper(k) => v }", "{ENV:\"prod\"}"),
        ("[for p in var.ports : p if p > 100]", "[443]"),
        ("-local.n", "-3"),
        ("(var.acl)", "\"public-read\""),
        ("var.rules[*].port", "[22,443]"),
        ("var.rules.*.port", "[22,443]"),
        ("var.tags[*]", "[{env:\"prod\"}]"),
        ("<<EOT\nacl=${var.acl}\nEOT", "\"acl=public-read\\n\""),
    ];
    for (expr, want) in cases {
        assert_eq!(eval(expr, &vars), want, "{expr}");
    }
}

#[test]
fn unknown_flows_through() {
    let vars = [("acl", "\"private\"")];
    let cases = [
        ("var.missing", "?"),
        ("aws_s3_bucket.b.arn", "?"),
        ("data.aws_caller_identity.c.account_id", "?"),
        ("\"${var.missing}-x\"", "?"),
        ("var.missing == \"x\"", "?"),
        // A list with one unknown element is still a list.
        ("[var.acl, aws_s3_bucket.b.id]", "[\"private\",~]"),
        ("{ a = var.acl, b = var.missing }", "{a:\"private\",b:~}"),
        // Unknown condition: unknown; known condition picks a known side.
        ("var.missing ? \"a\" : \"b\"", "?"),
        ("true ? var.acl : var.missing", "\"private\""),
        ("false && var.missing", "false"),
        ("true || var.missing", "true"),
        ("upper(var.missing)", "?"),
        ("unknownfn(var.acl)", "?"),
        ("each.value", "?"),
        ("count.index", "?"),
        ("[for x in var.missing : x]", "?"),
    ];
    for (expr, want) in cases {
        assert_eq!(eval(expr, &vars), want, "{expr}");
    }
}

#[test]
fn functions() {
    let vars = [("list", "[\"b\", \"a\", \"b\"]"), ("m", "{ a = 1 }")];
    let cases = [
        (
            "jsonencode({ Action = \"*\" })",
            "\"{\\\"Action\\\":\\\"*\\\"}\"",
        ),
        ("jsondecode(\"{\\\"a\\\": [1]}\").a[0]", "1"),
        ("merge(var.m, { b = 2 })", "{a:1,b:2}"),
        ("concat(var.list, [\"c\"])", "[\"b\",\"a\",\"b\",\"c\"]"),
        ("flatten([[1], [2, [3]]])", "[1,2,3]"),
        ("distinct(var.list)", "[\"b\",\"a\"]"),
        ("toset(var.list)", "[\"b\",\"a\"]"),
        ("lookup(var.m, \"a\", 0)", "1"),
        ("lookup(var.m, \"z\", 0)", "0"),
        ("element(var.list, 4)", "\"a\""),
        ("length(var.list)", "3"),
        ("keys(var.m)", "[\"a\"]"),
        ("values(var.m)", "[1]"),
        ("contains(var.list, \"a\")", "true"),
        ("coalesce(\"\", \"x\")", "\"x\""),
        ("coalescelist([], [1])", "[1]"),
        ("try(var.missing, \"fallback\")", "\"fallback\""),
        ("can(var.missing)", "?"),
        ("can(var.m)", "true"),
        ("tostring(5)", "\"5\""),
        ("tonumber(\"5\")", "5"),
        ("tobool(\"true\")", "true"),
        ("format(\"%s-%d\", \"a\", 1)", "\"a-1\""),
        ("join(\",\", var.list)", "\"b,a,b\""),
        ("split(\",\", \"a,b\")", "[\"a\",\"b\"]"),
        ("replace(\"a-b\", \"-\", \"_\")", "\"a_b\""),
        ("lower(\"AB\")", "\"ab\""),
        ("trimspace(\"  x \")", "\"x\""),
        ("startswith(\"abc\", \"ab\")", "true"),
        ("endswith(\"abc\", \"bc\")", "true"),
        ("substr(\"hello\", 1, 3)", "\"ell\""),
        ("min(3, 1, 2)", "1"),
        ("max(3, 1, 2)", "3"),
        ("range(3)", "[0,1,2]"),
        ("zipmap([\"a\"], [1])", "{a:1}"),
        ("merge(var.list...)", "?"),
    ];
    for (expr, want) in cases {
        assert_eq!(eval(expr, &vars), want, "{expr}");
    }
}

#[test]
fn comparisons() {
    assert_eq!(eval("local.n == 3", &[]), "true");
    assert_eq!(eval("var.e == \"prod\"", &[("e", "\"dev\"")]), "false");
}

#[test]
fn policy_documents_become_policy_json() {
    let source = "statement {\n  actions = [\"s3:GetObject\"]\n  resources = [\"*\"]\n  principals {\n    type = \"AWS\"\n    identifiers = [\"arn:aws:iam::1:root\"]\n  }\n  condition {\n    test = \"Bool\"\n    variable = \"aws:SecureTransport\"\n    values = [\"true\"]\n  }\n}\n";
    let index = LineIndex::new(source);
    let body = crate::parse::hcl::parse(source, &index).documents.remove(0);
    assert_eq!(
        policy::document_json(&body).as_deref(),
        Some(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["*"],"Principal":{"AWS":["arn:aws:iam::1:root"]},"Condition":{"Bool":{"aws:SecureTransport":["true"]}}}]}"#
        )
    );
    let unknown = "statement {\n  actions = var.actions\n}\n";
    let index = LineIndex::new(unknown);
    let body = crate::parse::hcl::parse(unknown, &index)
        .documents
        .remove(0);
    assert_eq!(policy::document_json(&body), None);
}

#[test]
fn network_and_encoding_functions() {
    let cases = [
        ("cidrsubnet(\"10.0.0.0/16\", 8, 2)", "\"10.0.2.0/24\""),
        ("cidrsubnet(\"10.1.0.0/16\", 0, 0)", "\"10.1.0.0/16\""),
        ("cidrhost(\"10.12.112.0/20\", 16)", "\"10.12.112.16\""),
        ("cidrhost(\"10.12.112.0/20\", -2)", "\"10.12.127.254\""),
        ("cidrsubnet(\"fd00::/56\", 8, 1)", "\"fd00:0:0:1::/64\""),
        ("cidrsubnet(\"10.0.0.0/30\", 8, 1)", "?"),
        ("yamlencode({ a = [1] })", "\"{\\\"a\\\":[1]}\""),
        // No module directory in scope: path.module and file() are unknown.
        ("path.module", "?"),
        ("file(\"x\")", "?"),
    ];
    for (expr, want) in cases {
        assert_eq!(eval(expr, &[]), want, "{expr}");
    }
}

#[test]
fn ranges_count_their_values() {
    let cases = [
        ("range(3)", "[0,1,2]"),
        ("range(1, 4)", "[1,2,3]"),
        // Below the start, the step defaults to -1, as in Terraform.
        ("range(4, 1)", "[4,3,2]"),
        ("range(1, 2, 0.5)", "[1,1.5]"),
        ("range(1, 4, -1)", "?"),
        ("range(0, 1, 0)", "?"),
        ("range(1025)", "?"),
        ("range(9007199254740992, 9007199254740994)", "?"),
    ];
    for (expr, want) in cases {
        assert_eq!(eval(expr, &[]), want, "{expr}");
    }
}

/// `expr` evaluated with a budget of these limits: its value (as [`eval`]
/// shows it) and the diagnostics given.
fn eval_with(expr: &str, limits: budget::Limits) -> (String, Vec<String>) {
    let scope = Scope {
        budget: Rc::new(Budget::new(limits)),
        file: "main.tf".into(),
        ..Scope::default()
    };
    let source = format!("v = {expr}\n");
    let index = LineIndex::new(&source);
    let parsed = crate::parse::hcl::parse(&source, &index);
    let node = parsed.documents[0].get("v").expect("value");
    let value = eval_node(node, &scope);
    let shown = match &value.value {
        Value::Expr(_) => "?".to_string(),
        _ => show(&value),
    };
    let diagnostics = scope
        .budget
        .take_diagnostics()
        .iter()
        .map(ToString::to_string)
        .collect();
    (shown, diagnostics)
}

#[test]
fn functions_that_multiply_are_refused_before_they_build() {
    let limits = budget::Limits {
        value_elements: 10,
        value_bytes: 16,
        ..budget::Limits::default()
    };
    let cases = [
        // 13 bytes of arguments; the separator repeats: 23 bytes.
        (
            "join(\"----------\", [\"a\", \"b\", \"c\"])",
            "main.tf:1:5: error: `join(\"----------\", [\"a\", \"b\", \"c\"])` is left unknown: its value would be over the evaluation budget (more than 16 bytes)",
        ),
        (
            "replace(\"aaaa\", \"a\", \"bbbbb\")",
            "main.tf:1:5: error: `replace(\"aaaa\", \"a\", \"bbbbb\")` is left unknown: its value would be over the evaluation budget (more than 16 bytes)",
        ),
        (
            "split(\",\", \",,,,,,,,,,,\")",
            "main.tf:1:5: error: `split(\",\", \",,,,,,,,,,,\")` is left unknown: its value would be over the evaluation budget (more than 10 elements)",
        ),
        (
            "[for x in range(5) : [x, x]]",
            "main.tf:1:5: error: `[for x in range(5) : [x, x]]` is left unknown: its value is over the evaluation budget (more than 10 elements)",
        ),
    ];
    for (expr, want) in cases {
        let (value, diagnostics) = eval_with(expr, limits);
        assert_eq!(value, "?", "{expr}");
        assert_eq!(diagnostics, vec![want.to_string()], "{expr}");
    }
}

#[test]
fn a_value_unknown_for_lack_of_budget_does_not_let_try_fall_back() {
    let limits = budget::Limits {
        value_elements: 10,
        ..budget::Limits::default()
    };
    // Within the budget, try gives its first known argument...
    assert_eq!(eval_with("try(range(3), \"x\")", limits).0, "[0,1,2]");
    // ...past it, whether range(20) would have been the value is unknown.
    assert_eq!(eval_with("try(range(20), \"x\")", limits).0, "?");
}

#[test]
fn sets_and_merges_keep_first_positions_and_last_values() {
    let cases = [
        (
            "toset([\"b\", \"a\", \"b\", 1, \"1\"])",
            "[\"b\",\"a\",1,\"1\"]",
        ),
        (
            "merge({ a = 1, b = 2 }, { a = 3 }, null, { c = 4 })",
            "{a:3,b:2,c:4}",
        ),
    ];
    for (expr, want) in cases {
        assert_eq!(eval(expr, &[]), want, "{expr}");
    }
}

#[test]
fn template_directives_with_strip_markers() {
    let vars = [
        ("on", "true"),
        ("off", "false"),
        ("ports", "[22, 443]"),
        ("tags", "{ env = \"prod\", team = \"sec\" }"),
    ];
    let cases = [
        ("\"%{if var.on}yes%{else}no%{endif}\"", "\"yes\""),
        ("\"%{if var.off}yes%{else}no%{endif}\"", "\"no\""),
        ("\"%{if var.off}yes%{endif}!\"", "\"!\""),
        ("\"%{for p in var.ports}${p},%{endfor}\"", "\"22,443,\""),
        (
            "\"%{for k, v in var.tags}${k}=${v};%{endfor}\"",
            "\"env=prod;team=sec;\"",
        ),
        // `~` strips the whitespace (newlines included) next to the marker.
        (
            "<<EOT\n%{ for p in var.ports ~}\nport ${p}\n%{ endfor ~}\nend\nEOT",
            "\"port 22\\nport 443\\nend\\n\"",
        ),
        (
            "<<EOT\nacls:\n  %{~ if var.on ~}\n  public-read\n  %{~ else ~}\n  private\n  %{~ endif ~}\n\nEOT",
            "\"acls:public-read\"",
        ),
        ("\"a  ${~ \"b\" ~}  c\"", "\"abc\""),
        // Nested directives.
        (
            "\"%{for p in var.ports}%{if p > 100}${p}%{endif}%{endfor}\"",
            "\"443\"",
        ),
        // Unknown condition or collection: the whole string is unknown.
        ("\"%{if var.missing}a%{endif}\"", "?"),
        ("\"%{for x in var.missing}a%{endfor}\"", "?"),
        ("\"%{for p in var.ports}${var.missing}%{endfor}\"", "?"),
    ];
    for (expr, want) in cases {
        assert_eq!(eval(expr, &vars), want, "{expr}");
    }
}

#[test]
fn nested_template_loops_stop_at_the_budget() {
    // 1000^3 rounds that print nothing: stopped by the step budget.
    let big = format!("[{}]", vec!["1"; 1000].join(","));
    let vars = [("xs", big.as_str())];
    let expr =
        "\"%{for a in var.xs}%{for b in var.xs}%{for c in var.xs}%{endfor}%{endfor}%{endfor}\"";
    assert_eq!(eval(expr, &vars), "?");
}
