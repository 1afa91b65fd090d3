//! Terraform evaluation: the values of expressions, computed from the
//! module's input variables and locals, so `acl = var.acl` is seen as the
//! `"public-read"` its default says.
//!
//! Evaluation never guesses. Anything rampart cannot know (a resource
//! attribute known only after apply, a data source, a variable with no
//! value, a function it does not implement) stays an unevaluated
//! [`Expression`] node, which queries treat as unknown. Unknown flows
//! through: a list with one unknown element is still a list whose other
//! elements are known.
//!
//! Evaluated values carry the span of the expression they replace, so a
//! finding points at `acl = var.acl` in the resource, not at the variable's
//! default in another file.

mod functions;
pub mod module;
pub mod modules;
mod policy;

use std::collections::BTreeMap;
use std::rc::Rc;

use hcl_edit::Span as _;
use hcl_edit::expr::{
    BinaryOperator, Expression as HclExpr, ObjectKey, TraversalOperator, UnaryOperator,
};
use hcl_edit::template::{Element, Template};

use crate::tree::{Entry, Expression, Node, Number, Object, Span, Value};

/// Deeper than this, an expression is left unevaluated (a guard against
/// pathological nesting, never reached by real code).
const MAX_DEPTH: usize = 64;

/// What names resolve to. The tables are shared (`Rc`): a scope is copied
/// for every `count`/`for_each` instance and `dynamic` element.
#[derive(Debug, Default)]
pub struct Scope {
    /// `var.<name>`: input variables with a value.
    pub vars: Rc<BTreeMap<String, Node>>,
    /// `local.<name>`: locals evaluated so far.
    pub locals: Rc<BTreeMap<String, Node>>,
    /// Names bound by iteration: `each` (`{key, value}`) for `for_each`,
    /// `count` (`{index}`), a dynamic block's iterator (`{key, value}`).
    pub iteration: Vec<(String, Node)>,
    /// Data sources whose attributes rampart computes itself, by
    /// `<type>.<name>`: an `aws_iam_policy_document`'s `json`.
    pub data: Rc<BTreeMap<String, Node>>,
    /// Where files are read from, for `path.module`, `file` and
    /// `templatefile`.
    pub files: Option<std::sync::Arc<FileAccess>>,
}

/// What `file()` and `templatefile()` may read: files of the module's
/// directory tree inside the scanned paths, never outside them.
#[derive(Debug)]
pub struct FileAccess {
    /// The module directory (`path.module`), as the user reaches it.
    pub module_dir: std::path::PathBuf,
    /// The scanned paths, canonical: reads are refused outside them.
    pub roots: Vec<std::path::PathBuf>,
    /// Files inside the scanned paths that could not be read (a FIFO, a
    /// binary file, one over the cap): named in a diagnostic, once each.
    pub refused: std::sync::Mutex<std::collections::BTreeSet<crate::diagnostic::Diagnostic>>,
}

/// Files read by `file()` larger than this are left unknown.
const MAX_READ: u64 = 1024 * 1024;

impl FileAccess {
    /// The text of `path` (relative to the working directory, as Terraform
    /// reads it), when it lies inside a scanned path. Read through
    /// [`crate::source::read_source`], which refuses a FIFO or device
    /// without blocking (issue 21, item 15).
    fn read(&self, path: &str) -> Option<String> {
        let canonical = std::fs::canonicalize(path).ok()?;
        if !self.roots.iter().any(|r| canonical.starts_with(r)) {
            return None;
        }
        match crate::source::read_source(&canonical, MAX_READ) {
            Ok(source) => Some(source.text),
            Err(err) => {
                let display = crate::discover::display_path(std::path::Path::new(path));
                // `--max-file-size` does not move this cap: do not suggest it.
                let reason = match err {
                    crate::source::ReadError::TooLarge { size, cap } => {
                        format!("file is {size} bytes, over the {cap}-byte limit")
                    }
                    other => other.to_string(),
                };
                if let Ok(mut refused) = self.refused.lock() {
                    refused.insert(crate::diagnostic::Diagnostic::error(
                        display,
                        0,
                        0,
                        format!("not read by file() or templatefile(): {reason}"),
                    ));
                }
                None
            }
        }
    }

    /// The diagnostics about files that could not be read, emptied.
    pub fn take_refused(&self) -> Vec<crate::diagnostic::Diagnostic> {
        self.refused
            .lock()
            .map(|mut refused| std::mem::take(&mut *refused).into_iter().collect())
            .unwrap_or_default()
    }
}

impl Scope {
    /// This scope with one more name bound (innermost).
    pub fn with_binding(&self, binding: (String, Node)) -> Scope {
        let mut iteration = self.iteration.clone();
        iteration.push(binding);
        Scope {
            vars: self.vars.clone(),
            locals: self.locals.clone(),
            iteration,
            data: self.data.clone(),
            files: self.files.clone(),
        }
    }
}

/// Bindings of `for` expressions in scope (innermost last).
type Bindings = Vec<(String, Node)>;

/// Evaluates an expression node; returns the node itself when it is not
/// an expression or cannot be known. Literal arrays and objects are walked
/// so expressions inside them are evaluated too.
pub fn eval_node(node: &Node, scope: &Scope) -> Node {
    match &node.value {
        Value::Expr(e) => match parsed_expr(&e.source) {
            Some(parsed) => {
                let ev = Evaluator {
                    source: &e.source,
                    scope,
                    at: node.span,
                };
                ev.eval(&parsed, &mut scope.iteration.clone(), 0)
                    .unwrap_or_else(|| node.clone())
            }
            None => node.clone(),
        },
        Value::Array(items) => Node::new(
            Value::Array(items.iter().map(|n| eval_node(n, scope)).collect()),
            node.span,
        ),
        Value::Object(o) => Node::new(
            Value::Object(Object {
                entries: o
                    .entries
                    .iter()
                    .map(|e| Entry {
                        key: e.key.clone(),
                        key_span: e.key_span,
                        value: eval_node(&e.value, scope),
                    })
                    .collect(),
            }),
            node.span,
        ),
        _ => node.clone(),
    }
}

/// Parsed expressions by source text, per thread: the same expression is
/// evaluated once per `count`/`for_each` instance and per module call, and
/// parsing dominates evaluation. Bounded, so memory stays flat.
fn parsed_expr(source: &str) -> Option<std::rc::Rc<HclExpr>> {
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::rc::Rc;
    const MAX_CACHED: usize = 20_000;
    thread_local! {
        static CACHE: RefCell<HashMap<String, Option<Rc<HclExpr>>>> = RefCell::new(HashMap::new());
    }
    CACHE.with(|cache| {
        if let Some(hit) = cache.borrow().get(source) {
            return hit.clone();
        }
        let parsed = hcl_edit::parser::parse_expr(source).ok().map(Rc::new);
        let mut cache = cache.borrow_mut();
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(source.to_string(), parsed.clone());
        parsed
    })
}

struct Evaluator<'a> {
    /// The text the expression was parsed from (for unknown parts).
    source: &'a str,
    scope: &'a Scope,
    /// Where every produced node points.
    at: Span,
}

impl Evaluator<'_> {
    fn node(&self, value: Value) -> Node {
        Node::new(value, self.at)
    }

    /// An unknown part of a partly known value: its source and references.
    fn unknown(&self, expr: &HclExpr) -> Node {
        let source = expr
            .span()
            .and_then(|r| self.source.get(r))
            .unwrap_or(self.source)
            .to_string();
        self.node(Value::Expr(Box::new(Expression {
            references: crate::parse::hcl::references_of(expr),
            source,
            literal_parts: Vec::new(),
        })))
    }

    /// The value of `expr`, or `None` when it is not known.
    fn eval(&self, expr: &HclExpr, bound: &mut Bindings, depth: usize) -> Option<Node> {
        if depth > MAX_DEPTH {
            return None;
        }
        let d = depth + 1;
        Some(match expr {
            HclExpr::Null(_) => self.node(Value::Null),
            HclExpr::Bool(b) => self.node(Value::Bool(*b.value())),
            HclExpr::Number(n) => self.node(Value::Number(match n.value().as_i64() {
                Some(i) => Number::Int(i),
                None => Number::Float(n.value().as_f64()?),
            })),
            HclExpr::String(s) => self.node(Value::String(s.value().clone())),
            HclExpr::Array(items) => self.node(Value::Array(
                items
                    .iter()
                    .map(|e| self.eval(e, bound, d).unwrap_or_else(|| self.unknown(e)))
                    .collect(),
            )),
            HclExpr::Object(obj) => {
                let mut entries = Vec::new();
                for (key, value) in obj.iter() {
                    let key = match key {
                        ObjectKey::Ident(i) => i.as_str().to_string(),
                        ObjectKey::Expression(e) => text(&self.eval(e, bound, d)?)?,
                    };
                    let value = self
                        .eval(value.expr(), bound, d)
                        .unwrap_or_else(|| self.unknown(value.expr()));
                    entries.push(Entry {
                        key,
                        key_span: self.at,
                        value,
                    });
                }
                self.node(Value::Object(Object { entries }))
            }
            HclExpr::StringTemplate(t) => self.template(t, bound, d)?,
            HclExpr::HeredocTemplate(h) => {
                let mut h = (**h).clone();
                if h.indent().is_some() {
                    h.dedent();
                }
                self.template(&h.template, bound, d)?
            }
            HclExpr::Parenthesis(p) => self.eval(p.inner(), bound, d)?,
            HclExpr::Variable(v) => {
                let mut value = bound.iter().rev().find(|(n, _)| n == v.as_str())?.1.clone();
                respan(&mut value, self.at);
                value
            }
            HclExpr::Traversal(t) => {
                let mut value = self.traversal(t, bound, d)?;
                respan(&mut value, self.at);
                value
            }
            HclExpr::Conditional(c) => {
                let cond = self.eval(&c.cond_expr, bound, d)?;
                if truthy(&cond)? {
                    self.eval(&c.true_expr, bound, d)?
                } else {
                    self.eval(&c.false_expr, bound, d)?
                }
            }
            HclExpr::UnaryOp(op) => {
                let v = self.eval(&op.expr, bound, d)?;
                match op.operator.value() {
                    UnaryOperator::Neg => self.node(Value::Number(negate(number(&v)?))),
                    UnaryOperator::Not => self.node(Value::Bool(!truthy(&v)?)),
                }
            }
            HclExpr::BinaryOp(op) => {
                let operator = *op.operator.value();
                // `&&` and `||` decide on one side when it is enough.
                if matches!(operator, BinaryOperator::And | BinaryOperator::Or) {
                    let lhs = self.eval(&op.lhs_expr, bound, d).and_then(|v| truthy(&v));
                    let rhs = self.eval(&op.rhs_expr, bound, d).and_then(|v| truthy(&v));
                    let result = match (operator, lhs, rhs) {
                        (BinaryOperator::And, Some(false), _)
                        | (BinaryOperator::And, _, Some(false)) => false,
                        (BinaryOperator::And, Some(true), Some(true)) => true,
                        (BinaryOperator::Or, Some(true), _)
                        | (BinaryOperator::Or, _, Some(true)) => true,
                        (BinaryOperator::Or, Some(false), Some(false)) => false,
                        _ => return None,
                    };
                    return Some(self.node(Value::Bool(result)));
                }
                let lhs = self.eval(&op.lhs_expr, bound, d)?;
                let rhs = self.eval(&op.rhs_expr, bound, d)?;
                self.node(binary(operator, &lhs, &rhs)?)
            }
            HclExpr::ForExpr(f) => self.for_expr(f, bound, d)?,
            HclExpr::FuncCall(call) => {
                let name = call.name.name.as_str();
                if !call.name.namespace.is_empty() {
                    return None;
                }
                let args: Vec<&HclExpr> = call.args.iter().collect();
                // `try` and `can` look at whether an argument is known.
                match name {
                    "try" => {
                        return args
                            .iter()
                            .find_map(|a| self.eval(a, bound, d).filter(is_known));
                    }
                    "can" => {
                        return args
                            .first()
                            .and_then(|a| self.eval(a, bound, d))
                            .filter(is_known)
                            .map(|_| self.node(Value::Bool(true)));
                    }
                    _ => {}
                }
                let mut values = Vec::with_capacity(args.len());
                for a in &args {
                    values.push(self.eval(a, bound, d)?);
                }
                if call.args.expand_final()
                    && let Some(last) = values.pop()
                {
                    values.extend(last.as_array()?.iter().cloned());
                }
                if name == "file" || name == "templatefile" {
                    return self.file_function(name, &values);
                }
                if name == "coalesce" {
                    // Unknown before the first non-empty known value: unknown.
                    for v in &values {
                        if !is_known(v) {
                            return None;
                        }
                        if !matches!(&v.value, Value::Null) && v.as_str() != Some("") {
                            return Some(v.clone());
                        }
                    }
                    return None;
                }
                if !values.iter().all(is_known) && !functions::tolerates_unknown(name) {
                    return None;
                }
                functions::call(name, &values, self.at)?
            }
        })
    }

    /// `file(path)` and `templatefile(path, vars)` on files inside the
    /// scanned paths.
    fn file_function(&self, name: &str, args: &[Node]) -> Option<Node> {
        let files = self.scope.files.as_ref()?;
        let text = files.read(args.first()?.as_str()?)?;
        if name == "file" {
            return Some(self.node(Value::String(text)));
        }
        let vars = args.get(1)?.as_object()?;
        let template = hcl_edit::parser::parse_template(&text).ok()?;
        let mut bound: Bindings = vars
            .entries
            .iter()
            .map(|e| (e.key.clone(), e.value.clone()))
            .collect();
        let inner = Evaluator {
            source: &text,
            scope: self.scope,
            at: self.at,
        };
        inner.template(&template, &mut bound, 1)
    }

    fn template(&self, template: &Template, bound: &mut Bindings, d: usize) -> Option<Node> {
        let mut out = String::new();
        for element in template.iter() {
            match element {
                Element::Literal(lit) => out.push_str(lit.value()),
                Element::Interpolation(i) => out.push_str(&text(&self.eval(&i.expr, bound, d)?)?),
                Element::Directive(_) => return None,
            }
        }
        Some(self.node(Value::String(out)))
    }

    fn traversal(
        &self,
        t: &hcl_edit::expr::Traversal,
        bound: &mut Bindings,
        d: usize,
    ) -> Option<Node> {
        let mut ops = t.operators.iter().map(|o| o.value());
        let value = match &t.expr {
            HclExpr::Variable(root) if bound.iter().any(|(n, _)| n == root.as_str()) => {
                self.eval(&t.expr, bound, d)?
            }
            HclExpr::Variable(root) if root.as_str() == "path" => {
                let Some(TraversalOperator::GetAttr(name)) = ops.next() else {
                    return None;
                };
                let files = self.scope.files.as_ref()?;
                match name.as_str() {
                    "module" => self.node(Value::String(crate::discover::display_path(
                        &files.module_dir,
                    ))),
                    _ => return None,
                }
            }
            HclExpr::Variable(root) => {
                let table = match root.as_str() {
                    "var" => &*self.scope.vars,
                    "local" => &*self.scope.locals,
                    "data" => &*self.scope.data,
                    _ => return None,
                };
                let Some(TraversalOperator::GetAttr(name)) = ops.next() else {
                    return None;
                };
                let key = if root.as_str() == "data" {
                    // `data.<type>.<name>`: the table is keyed by both.
                    let Some(TraversalOperator::GetAttr(data_name)) = ops.next() else {
                        return None;
                    };
                    format!("{}.{}", name.as_str(), data_name.as_str())
                } else {
                    name.as_str().to_string()
                };
                let mut v = table.get(&key)?.clone();
                respan(&mut v, self.at);
                v
            }
            other => self.eval(other, bound, d)?,
        };
        let ops: Vec<&TraversalOperator> = ops.collect();
        self.apply(value, &ops, bound, d)
    }

    /// Applies traversal operators to a value; a splat (`[*]`, `.*`)
    /// applies the rest to each element and gives the list of results.
    fn apply(
        &self,
        mut value: Node,
        ops: &[&TraversalOperator],
        bound: &mut Bindings,
        d: usize,
    ) -> Option<Node> {
        for (i, op) in ops.iter().enumerate() {
            value = match op {
                TraversalOperator::GetAttr(name) => value.get(name.as_str())?.clone(),
                TraversalOperator::LegacyIndex(n) => value
                    .as_array()?
                    .get(usize::try_from(*n.value()).ok()?)?
                    .clone(),
                TraversalOperator::Index(e) => {
                    let key = self.eval(e, bound, d)?;
                    match &value.value {
                        Value::Array(items) => items
                            .get(usize::try_from(number(&key)?.as_f64() as i64).ok()?)?
                            .clone(),
                        Value::Object(o) => o.get(&text(&key)?)?.clone(),
                        _ => return None,
                    }
                }
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                    // A single value splats as a one-element list, null as none.
                    let elements: Vec<Node> = match &value.value {
                        Value::Array(items) => items.clone(),
                        Value::Null => Vec::new(),
                        _ => vec![value.clone()],
                    };
                    let mut out = Vec::with_capacity(elements.len());
                    for e in elements {
                        out.push(self.apply(e, &ops[i + 1..], bound, d)?);
                    }
                    return Some(self.node(Value::Array(out)));
                }
            };
            if !is_known(&value) && matches!(value.value, Value::Expr(_)) {
                return None;
            }
        }
        Some(value)
    }

    fn for_expr(
        &self,
        f: &hcl_edit::expr::ForExpr,
        bound: &mut Bindings,
        d: usize,
    ) -> Option<Node> {
        let collection = self.eval(&f.intro.collection_expr, bound, d)?;
        let pairs: Vec<(Node, Node)> = match &collection.value {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (self.node(Value::Number(Number::Int(i as i64))), v.clone()))
                .collect(),
            Value::Object(o) => o
                .entries
                .iter()
                .map(|e| (self.node(Value::String(e.key.clone())), e.value.clone()))
                .collect(),
            _ => return None,
        };
        let key_var = f.intro.key_var.as_ref().map(|k| k.as_str().to_string());
        let value_var = f.intro.value_var.as_str().to_string();
        let mut list = Vec::new();
        let mut object = Vec::new();
        for (k, v) in pairs {
            let before = bound.len();
            if let Some(kv) = &key_var {
                bound.push((kv.clone(), k));
            }
            bound.push((value_var.clone(), v));
            let keep = match &f.cond {
                Some(c) => self.eval(&c.expr, bound, d).and_then(|c| truthy(&c)),
                None => Some(true),
            };
            let result = match keep {
                None => None,
                Some(false) => Some(None),
                Some(true) => match &f.key_expr {
                    Some(key) => {
                        let key = self.eval(key, bound, d).and_then(|k| text(&k));
                        let value = self.eval(&f.value_expr, bound, d);
                        match (key, value) {
                            (Some(key), Some(value)) => Some(Some((Some(key), value))),
                            _ => None,
                        }
                    }
                    None => self.eval(&f.value_expr, bound, d).map(|v| Some((None, v))),
                },
            };
            bound.truncate(before);
            match result? {
                Some((Some(key), value)) => object.push(Entry {
                    key,
                    key_span: self.at,
                    value,
                }),
                Some((None, value)) => list.push(value),
                None => {}
            }
        }
        Some(if f.key_expr.is_some() {
            self.node(Value::Object(Object { entries: object }))
        } else {
            self.node(Value::Array(list))
        })
    }
}

/// True when nothing in the value is unknown.
pub fn is_known(node: &Node) -> bool {
    node.is_literal()
}

/// Every span in `node` set to `at`.
pub fn respan(node: &mut Node, at: Span) {
    node.span = at;
    match &mut node.value {
        Value::Array(items) => items.iter_mut().for_each(|n| respan(n, at)),
        Value::Object(o) => o.entries.iter_mut().for_each(|e| {
            e.key_span = at;
            respan(&mut e.value, at);
        }),
        _ => {}
    }
}

/// A value as Terraform converts it to a string.
fn text(node: &Node) -> Option<String> {
    match &node.value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn number(node: &Node) -> Option<Number> {
    match &node.value {
        Value::Number(n) => Some(*n),
        Value::String(s) => Number::parse(s.trim()),
        _ => None,
    }
}

fn negate(n: Number) -> Number {
    match n {
        Number::Int(i) => Number::Int(-i),
        Number::Float(f) => Number::Float(-f),
    }
}

/// A boolean as Terraform converts it (`"true"` is true).
fn truthy(node: &Node) -> Option<bool> {
    match &node.value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        _ => None,
    }
}

fn binary(op: BinaryOperator, lhs: &Node, rhs: &Node) -> Option<Value> {
    use BinaryOperator as B;
    Some(match op {
        B::Eq => Value::Bool(lhs.to_json() == rhs.to_json()),
        B::NotEq => Value::Bool(lhs.to_json() != rhs.to_json()),
        B::Less | B::LessEq | B::Greater | B::GreaterEq => {
            let (a, b) = (number(lhs)?.as_f64(), number(rhs)?.as_f64());
            Value::Bool(match op {
                B::Less => a < b,
                B::LessEq => a <= b,
                B::Greater => a > b,
                _ => a >= b,
            })
        }
        B::Plus | B::Minus | B::Mul | B::Div | B::Mod => {
            let (a, b) = (number(lhs)?, number(rhs)?);
            if let (Number::Int(x), Number::Int(y)) = (a, b)
                && !matches!(op, B::Div)
            {
                return Some(Value::Number(Number::Int(match op {
                    B::Plus => x.checked_add(y)?,
                    B::Minus => x.checked_sub(y)?,
                    B::Mul => x.checked_mul(y)?,
                    _ => x.checked_rem(y)?,
                })));
            }
            let (x, y) = (a.as_f64(), b.as_f64());
            let r = match op {
                B::Plus => x + y,
                B::Minus => x - y,
                B::Mul => x * y,
                B::Div => x / y,
                _ => x % y,
            };
            if !r.is_finite() {
                return None;
            }
            Value::Number(if r.fract() == 0.0 && r.abs() < 9e15 {
                Number::Int(r as i64)
            } else {
                Number::Float(r)
            })
        }
        B::And | B::Or => return None,
    })
}

#[cfg(test)]
mod tests;
