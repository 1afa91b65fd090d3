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

pub mod budget;
mod functions;
pub mod module;
pub mod modules;
mod order;
mod policy;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::rc::Rc;

use hcl_edit::Span as _;
use hcl_edit::expr::{
    BinaryOperator, Expression as HclExpr, ObjectKey, TraversalOperator, UnaryOperator,
};
use hcl_edit::template::{Element, Template};

use crate::tree::{Entry, Expression, Node, Number, Object, Span, Value};
use budget::{Budget, Limits, Size};

/// Deeper than this, an expression is left unknown with a diagnostic (a
/// guard against pathological nesting, never reached by real code).
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
    /// What the module's evaluation may still spend, shared by every scope
    /// of it.
    pub budget: Rc<Budget>,
    /// The file being evaluated (display path), for diagnostics.
    pub file: Rc<str>,
}

/// Everything evaluation reads, handed to it by the loader: evaluation
/// never opens a file or lists a directory itself, so it stays a step from
/// parsed documents to evaluated ones, and every read goes through the one
/// safe reader (no FIFO, no device, a size cap).
pub trait Disk: std::fmt::Debug + Send + Sync {
    /// The text of `path`, at most `cap` bytes; the error says why not.
    fn read(&self, path: &std::path::Path, cap: u64) -> Result<String, String>;
    /// The names in directory `dir` (files Terraform loads by name:
    /// `*.auto.tfvars`), sorted.
    fn list(&self, dir: &std::path::Path) -> Vec<std::path::PathBuf>;
    /// The parsed Terraform files of the module in `dir`, read only where
    /// `allowed` (canonical directories) permits.
    fn module_files(
        &self,
        dir: &std::path::Path,
        allowed: &[std::path::PathBuf],
    ) -> Vec<crate::platform::LoadedFile>;
    /// How a path is named to users.
    fn display(&self, path: &std::path::Path) -> String;
    /// The repository `dir` is in (the nearest directory up with `.git`).
    fn repository_root(&self, dir: &std::path::Path) -> Option<std::path::PathBuf>;
}

/// What `file()` and `templatefile()` may read: files of the module's
/// directory tree inside the scanned paths, never outside them.
#[derive(Debug)]
pub struct FileAccess {
    /// Where reads go.
    pub disk: std::sync::Arc<dyn Disk>,
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
    /// reads it), when it lies inside a scanned path. Read through the
    /// loader's safe reader, which refuses a FIFO or device without
    /// blocking (issue 21, item 15).
    fn read(&self, path: &str) -> Option<String> {
        let canonical = std::fs::canonicalize(path).ok()?;
        if !self.roots.iter().any(|r| canonical.starts_with(r)) {
            return None;
        }
        match self.disk.read(&canonical, MAX_READ) {
            Ok(text) => Some(text),
            Err(reason) => {
                let display = self.disk.display(std::path::Path::new(path));
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
            budget: self.budget.clone(),
            file: self.file.clone(),
        }
    }
}

/// Bindings of `for` expressions in scope (innermost last).
type Bindings = Vec<(String, Node)>;

/// Evaluates an expression node; returns the node itself when it is not
/// an expression or cannot be known. Literal arrays and objects are walked
/// so expressions inside them are evaluated too.
pub fn eval_node(node: &Node, scope: &Scope) -> Node {
    eval_node_sized(node, scope).node
}

/// [`eval_node`] with the size of the result. A literal list or object
/// whose evaluated items together are over the per-value budget is
/// unknown, with a diagnostic.
fn eval_node_sized(node: &Node, scope: &Scope) -> Built {
    let limits = scope.budget.limits();
    let as_written = || Built {
        node: node.clone(),
        size: Size::of(node, limits),
    };
    match &node.value {
        Value::Expr(e) => {
            let Some(parsed) = parsed_expr(&e.source) else {
                return as_written();
            };
            let ev = Evaluator {
                source: &e.source,
                scope,
                at: node.span,
                in_template_file: false,
            };
            // The scope's own bindings (`each`, `count`) are looked up in
            // place, not copied for every expression.
            ev.sized(&parsed, &mut Vec::new(), 0)
                .unwrap_or_else(as_written)
        }
        Value::Array(items) => {
            let mut size = Size::container();
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let item = eval_node_sized(item, scope);
                size = size.with_item(item.size, 0);
                if let Some(why) = size.over(limits) {
                    return literal_over_budget(node, &why, scope);
                }
                out.push(item.node);
            }
            Built {
                node: Node::new(Value::Array(out), node.span),
                size,
            }
        }
        Value::Object(o) => {
            let mut size = Size::container();
            let mut entries = Vec::with_capacity(o.entries.len());
            for e in &o.entries {
                let value = eval_node_sized(&e.value, scope);
                size = size.with_item(value.size, e.key.len());
                if let Some(why) = size.over(limits) {
                    return literal_over_budget(node, &why, scope);
                }
                entries.push(Entry {
                    key: e.key.clone(),
                    key_span: e.key_span,
                    value: value.node,
                });
            }
            Built {
                node: Node::new(Value::Object(Object { entries }), node.span),
                size,
            }
        }
        _ => as_written(),
    }
}

/// A literal list or object left unknown because its evaluated items
/// would be over the budget (`why`), with a diagnostic naming it.
fn literal_over_budget(node: &Node, why: &str, scope: &Scope) -> Built {
    let mut source = String::new();
    write_as_hcl(node, &mut source);
    let mut references = Vec::new();
    collect_references(node, &mut references);
    scope.budget.refuse(
        &scope.file,
        node.span.start_line,
        node.span.start_col,
        format!(
            "`{}` is left unknown: its value is over the evaluation budget ({why})",
            excerpt(&source)
        ),
    );
    let unknown = Node::new(
        Value::Expr(Box::new(Expression {
            source,
            references,
            literal_parts: Vec::new(),
        })),
        node.span,
    );
    Built {
        size: Size::of(&unknown, scope.budget.limits()),
        node: unknown,
    }
}

/// A literal tree as HCL text (its expressions as written), to name it.
fn write_as_hcl(node: &Node, out: &mut String) {
    match &node.value {
        Value::Expr(e) => out.push_str(&e.source),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_as_hcl(item, out);
            }
            out.push(']');
        }
        Value::Object(o) => {
            out.push_str("{ ");
            for (i, e) in o.entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&e.key);
                out.push_str(" = ");
                write_as_hcl(&e.value, out);
            }
            out.push_str(" }");
        }
        _ => out.push_str(&node.to_json().to_string()),
    }
}

/// The references of every expression in a literal tree, without
/// duplicates.
fn collect_references(node: &Node, out: &mut Vec<String>) {
    match &node.value {
        Value::Expr(e) => {
            for r in &e.references {
                if !out.contains(r) {
                    out.push(r.clone());
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_references(i, out)),
        Value::Object(o) => o
            .entries
            .iter()
            .for_each(|e| collect_references(&e.value, out)),
        _ => {}
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

/// A value with its size, as the evaluator builds it: containers add up
/// the sizes of their items instead of measuring again.
struct Built {
    node: Node,
    size: Size,
}

struct Evaluator<'a> {
    /// The text the expression was parsed from (for unknown parts).
    source: &'a str,
    scope: &'a Scope,
    /// Where every produced node points.
    at: Span,
    /// Evaluating a template read by `templatefile`: diagnostics point at
    /// the call, and `templatefile` may not be called again (Terraform
    /// forbids it; a template including itself would recurse forever).
    in_template_file: bool,
}

impl Evaluator<'_> {
    fn node(&self, value: Value) -> Node {
        Node::new(value, self.at)
    }

    fn limits(&self) -> &Limits {
        self.scope.budget.limits()
    }

    /// An unknown part of a partly known value: its source and references.
    fn unknown(&self, expr: &HclExpr) -> Node {
        self.node(Value::Expr(Box::new(Expression {
            references: crate::parse::hcl::references_of(expr),
            source: self.text_of(expr).to_string(),
            literal_parts: Vec::new(),
        })))
    }

    fn unknown_sized(&self, expr: &HclExpr) -> Built {
        let node = self.unknown(expr);
        let size = Size::of(&node, self.limits());
        Built { node, size }
    }

    /// The source text of `expr`.
    fn text_of(&self, expr: &HclExpr) -> &str {
        expr.span()
            .and_then(|r| self.source.get(r))
            .unwrap_or(self.source)
    }

    /// Line and column of `expr` in its file.
    fn position(&self, expr: &HclExpr) -> (u32, u32) {
        let at = (self.at.start_line, self.at.start_col);
        if self.in_template_file {
            return at;
        }
        let Some(before) = expr.span().and_then(|r| self.source.get(..r.start)) else {
            return at;
        };
        match before.rfind('\n') {
            None => (at.0, at.1 + before.chars().count() as u32),
            Some(last) => (
                at.0 + before.matches('\n').count() as u32,
                before[last + 1..].chars().count() as u32 + 1,
            ),
        }
    }

    /// Leaves `expr` unknown because of `reason`, with one diagnostic
    /// naming it.
    fn refuse(&self, expr: &HclExpr, reason: &str) -> Option<Built> {
        let (line, column) = self.position(expr);
        self.scope.budget.refuse(
            &self.scope.file,
            line,
            column,
            format!(
                "`{}` is left unknown: {reason}",
                excerpt(self.text_of(expr))
            ),
        );
        None
    }

    /// Leaves `expr` unknown because its value would be over a per-value
    /// limit (`why`).
    fn over_value(&self, expr: &HclExpr, why: &str) -> Option<Built> {
        self.refuse(
            expr,
            &format!("its value is over the evaluation budget ({why})"),
        )
    }

    /// Leaves `expr` unknown because the module's budget is spent; the
    /// first such expression is named in the module's one diagnostic.
    fn spent(&self, expr: &HclExpr) -> Option<Built> {
        let (line, column) = self.position(expr);
        let budget = &self.scope.budget;
        budget.refuse_spent(
            &self.scope.file,
            line,
            column,
            format!(
                "evaluation stopped at `{}`: the module's evaluation budget is spent ({}); it and later expressions are left unknown",
                excerpt(self.text_of(expr)),
                budget.spent_on()
            ),
        );
        None
    }

    /// `node`, newly built by `expr`: measured, checked against the
    /// per-value limits and counted against the module's totals.
    fn fresh(&self, expr: &HclExpr, node: Node) -> Option<Built> {
        let size = Size::of(&node, self.limits());
        if let Some(why) = size.over(self.limits()) {
            return self.over_value(expr, &why);
        }
        if !self.scope.budget.charge(size) {
            return self.spent(expr);
        }
        Some(Built { node, size })
    }

    /// A list or object built by `expr` from items already counted: only
    /// the container itself (and its keys) is new.
    fn composed(
        &self,
        expr: &HclExpr,
        value: Value,
        size: Size,
        key_bytes: usize,
    ) -> Option<Built> {
        if !self.scope.budget.charge(Size::scalar(key_bytes)) {
            return self.spent(expr);
        }
        Some(Built {
            node: self.node(value),
            size,
        })
    }

    /// The value of `expr`, or `None` when it is not known.
    fn eval(&self, expr: &HclExpr, bound: &mut Bindings, depth: usize) -> Option<Node> {
        self.sized(expr, bound, depth).map(|s| s.node)
    }

    /// The value of `expr` with its size, or `None` when it is not known
    /// (or over the budget).
    fn sized(&self, expr: &HclExpr, bound: &mut Bindings, depth: usize) -> Option<Built> {
        if !self.scope.budget.step() {
            return self.spent(expr);
        }
        if depth > MAX_DEPTH {
            return self.refuse(
                expr,
                &format!("expressions nest more than {MAX_DEPTH} levels deep"),
            );
        }
        let d = depth + 1;
        match expr {
            HclExpr::Null(_) => self.fresh(expr, self.node(Value::Null)),
            HclExpr::Bool(b) => self.fresh(expr, self.node(Value::Bool(*b.value()))),
            HclExpr::Number(n) => {
                let number = match n.value().as_i64() {
                    Some(i) => Number::Int(i),
                    None => Number::Float(n.value().as_f64()?),
                };
                self.fresh(expr, self.node(Value::Number(number)))
            }
            HclExpr::String(s) => self.fresh(expr, self.node(Value::String(s.value().clone()))),
            HclExpr::Array(items) => {
                let mut size = Size::container();
                let mut out = Vec::with_capacity(items.len());
                for e in items.iter() {
                    let item = self
                        .sized(e, bound, d)
                        .unwrap_or_else(|| self.unknown_sized(e));
                    size = size.with_item(item.size, 0);
                    if let Some(why) = size.over(self.limits()) {
                        return self.over_value(expr, &why);
                    }
                    out.push(item.node);
                }
                self.composed(expr, Value::Array(out), size, 0)
            }
            HclExpr::Object(obj) => {
                let mut size = Size::container();
                let mut key_bytes = 0;
                let mut entries = Vec::new();
                for (key, value) in obj.iter() {
                    let key = match key {
                        ObjectKey::Ident(i) => i.as_str().to_string(),
                        ObjectKey::Expression(e) => text(&self.eval(e, bound, d)?)?,
                    };
                    let value = self
                        .sized(value.expr(), bound, d)
                        .unwrap_or_else(|| self.unknown_sized(value.expr()));
                    size = size.with_item(value.size, key.len());
                    if let Some(why) = size.over(self.limits()) {
                        return self.over_value(expr, &why);
                    }
                    key_bytes += key.len();
                    entries.push(Entry {
                        key,
                        key_span: self.at,
                        value: value.node,
                    });
                }
                self.composed(expr, Value::Object(Object { entries }), size, key_bytes)
            }
            HclExpr::StringTemplate(t) => self.template(expr, t, bound, d),
            HclExpr::HeredocTemplate(h) => {
                let mut h = (**h).clone();
                if h.indent().is_some() {
                    h.dedent();
                }
                self.template(expr, &h.template, bound, d)
            }
            HclExpr::Parenthesis(p) => self.sized(p.inner(), bound, d),
            HclExpr::Variable(v) => {
                let mut value = self.binding(bound, v.as_str())?.clone();
                value.respan(self.at);
                self.fresh(expr, value)
            }
            HclExpr::Traversal(t) => {
                let mut value = self.traversal(t, bound, d)?;
                value.respan(self.at);
                self.fresh(expr, value)
            }
            HclExpr::Conditional(c) => {
                let cond = self.eval(&c.cond_expr, bound, d)?;
                if truthy(&cond)? {
                    self.sized(&c.true_expr, bound, d)
                } else {
                    self.sized(&c.false_expr, bound, d)
                }
            }
            HclExpr::UnaryOp(op) => {
                let v = self.eval(&op.expr, bound, d)?;
                let value = match op.operator.value() {
                    UnaryOperator::Neg => Value::Number(negate(number(&v)?)),
                    UnaryOperator::Not => Value::Bool(!truthy(&v)?),
                };
                self.fresh(expr, self.node(value))
            }
            HclExpr::BinaryOp(op) => {
                let value = self.binary_op(op, bound, d)?;
                self.fresh(expr, self.node(value))
            }
            HclExpr::ForExpr(f) => self.for_expr(expr, f, bound, d),
            HclExpr::FuncCall(call) => self.func_call(expr, call, bound, d),
        }
    }

    /// The value bound to `name`: by a `for` expression (innermost first),
    /// else by the scope (`each`, `count`, a dynamic block's iterator).
    fn binding<'b>(&'b self, bound: &'b Bindings, name: &str) -> Option<&'b Node> {
        bound
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .or_else(|| self.scope_binding(name))
    }

    /// The value the scope binds to `name` (`each`, `count`, an iterator);
    /// a template read by `templatefile` sees only the variables passed.
    fn scope_binding(&self, name: &str) -> Option<&Node> {
        if self.in_template_file {
            return None;
        }
        self.scope
            .iteration
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    fn binary_op(
        &self,
        op: &hcl_edit::expr::BinaryOp,
        bound: &mut Bindings,
        d: usize,
    ) -> Option<Value> {
        let operator = *op.operator.value();
        // `&&` and `||` decide on one side when it is enough.
        if matches!(operator, BinaryOperator::And | BinaryOperator::Or) {
            let lhs = self.eval(&op.lhs_expr, bound, d).and_then(|v| truthy(&v));
            let rhs = self.eval(&op.rhs_expr, bound, d).and_then(|v| truthy(&v));
            let result = match (operator, lhs, rhs) {
                (BinaryOperator::And, Some(false), _) | (BinaryOperator::And, _, Some(false)) => {
                    false
                }
                (BinaryOperator::And, Some(true), Some(true)) => true,
                (BinaryOperator::Or, Some(true), _) | (BinaryOperator::Or, _, Some(true)) => true,
                (BinaryOperator::Or, Some(false), Some(false)) => false,
                _ => return None,
            };
            return Some(Value::Bool(result));
        }
        let lhs = self.eval(&op.lhs_expr, bound, d)?;
        let rhs = self.eval(&op.rhs_expr, bound, d)?;
        binary(operator, &lhs, &rhs)
    }

    fn func_call(
        &self,
        expr: &HclExpr,
        call: &hcl_edit::expr::FuncCall,
        bound: &mut Bindings,
        d: usize,
    ) -> Option<Built> {
        let name = call.name.name.as_str();
        if !call.name.namespace.is_empty() {
            return None;
        }
        let args: Vec<&HclExpr> = call.args.iter().collect();
        // `try` and `can` look at whether an argument is known.
        match name {
            "try" => {
                let budget = &self.scope.budget;
                for a in &args {
                    let refused = budget.refusals();
                    match self.sized(a, bound, d) {
                        Some(v) if is_known(&v.node) => return Some(v),
                        // Unknown for lack of budget: whether it would have
                        // been the result is not known either.
                        _ if budget.refusals() != refused => return None,
                        _ => {}
                    }
                }
                return None;
            }
            "can" => {
                let known = args
                    .first()
                    .and_then(|a| self.eval(a, bound, d))
                    .filter(is_known);
                return known.and_then(|_| self.fresh(expr, self.node(Value::Bool(true))));
            }
            "templatefile" if self.in_template_file => {
                return self.refuse(
                    expr,
                    "a template read by templatefile cannot call templatefile (nor can it in Terraform)",
                );
            }
            _ => {}
        }
        let mut values = Vec::with_capacity(args.len());
        let mut size = Size::container();
        for a in &args {
            let value = self.sized(a, bound, d)?;
            // The arguments together are held at once: one value's worth.
            size = size.with_item(value.size, 0);
            if let Some(why) = size.over(self.limits()) {
                return self.over_value(expr, &why);
            }
            values.push(value.node);
        }
        if call.args.expand_final()
            && let Some(last) = values.pop()
        {
            values.extend(last.as_array()?.iter().cloned());
        }
        if name == "file" || name == "templatefile" {
            let value = self.file_function(name, &values, d)?;
            return self.fresh(expr, value);
        }
        if name == "coalesce" {
            // Unknown before the first non-empty known value: unknown.
            for v in values {
                if !is_known(&v) {
                    return None;
                }
                if !matches!(&v.value, Value::Null) && v.as_str() != Some("") {
                    return self.fresh(expr, v);
                }
            }
            return None;
        }
        if !values.iter().all(is_known) && !functions::tolerates_unknown(name) {
            return None;
        }
        if let Some(why) = functions::over_budget(name, &values, self.limits()) {
            return self.refuse(expr, &why);
        }
        let value = functions::call(name, &values, self.at)?;
        self.fresh(expr, value)
    }

    /// `file(path)` and `templatefile(path, vars)` on files inside the
    /// scanned paths.
    fn file_function(&self, name: &str, args: &[Node], d: usize) -> Option<Node> {
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
            in_template_file: true,
        };
        let whole = HclExpr::StringTemplate(hcl_edit::template::StringTemplate::from(template));
        inner.eval(&whole, &mut bound, d)
    }

    /// A string template (`"${a}-${b}"`, a heredoc) written as `expr`,
    /// with its `%{if}` and `%{for}` directives and `~` strip markers.
    fn template(
        &self,
        expr: &HclExpr,
        template: &Template,
        bound: &mut Bindings,
        d: usize,
    ) -> Option<Built> {
        let mut out = String::new();
        match self.render(expr, template, (false, false), bound, d, &mut out) {
            Ok(()) => self.fresh(expr, self.node(Value::String(out))),
            Err(Unrendered::Unknown) => None,
            Err(Unrendered::Over(why)) => self.over_value(expr, &why),
        }
    }

    /// Appends the text of `template` to `out`. `strip` says whether the
    /// markers around it (`%{ if c ~}` … `%{~ endif }`) strip whitespace
    /// from its first and last literal.
    fn render(
        &self,
        expr: &HclExpr,
        template: &Template,
        strip: (bool, bool),
        bound: &mut Bindings,
        d: usize,
        out: &mut String,
    ) -> Result<(), Unrendered> {
        use hcl_edit::template::Directive;
        if d > MAX_DEPTH {
            let why = format!("template directives nest more than {MAX_DEPTH} levels deep");
            self.refuse(expr, &why);
            return Err(Unrendered::Unknown);
        }
        let elements: Vec<&Element> = template.iter().collect();
        for (i, element) in elements.iter().enumerate() {
            match element {
                Element::Literal(lit) => {
                    let mut literal: &str = lit.value();
                    let after_marker = match i.checked_sub(1) {
                        None => strip.0,
                        Some(before) => strips_following(elements[before]),
                    };
                    let before_marker = match elements.get(i + 1) {
                        None => strip.1,
                        Some(next) => strips_preceding(next),
                    };
                    if after_marker {
                        literal = literal.trim_start();
                    }
                    if before_marker {
                        literal = literal.trim_end();
                    }
                    out.push_str(literal);
                }
                Element::Interpolation(i) => {
                    let value = self.eval(&i.expr, bound, d).ok_or(Unrendered::Unknown)?;
                    out.push_str(&text(&value).ok_or(Unrendered::Unknown)?);
                }
                Element::Directive(directive) => match &**directive {
                    Directive::If(dir) => {
                        let cond = self
                            .eval(&dir.if_expr.cond_expr, bound, d)
                            .as_ref()
                            .and_then(truthy)
                            .ok_or(Unrendered::Unknown)?;
                        let endif = dir.endif_expr.strip.strip_start();
                        match (&dir.else_expr, cond) {
                            (else_expr, true) => {
                                let last =
                                    else_expr.as_ref().map_or(endif, |e| e.strip.strip_start());
                                let first = dir.if_expr.strip.strip_end();
                                let t = &dir.if_expr.template;
                                self.render(expr, t, (first, last), bound, d + 1, out)?;
                            }
                            (Some(e), false) => {
                                let first = e.strip.strip_end();
                                self.render(expr, &e.template, (first, endif), bound, d + 1, out)?;
                            }
                            (None, false) => {}
                        }
                    }
                    Directive::For(dir) => {
                        let f = &dir.for_expr;
                        let collection = self
                            .eval(&f.collection_expr, bound, d)
                            .ok_or(Unrendered::Unknown)?;
                        let pairs: Vec<(Node, Node)> = match &collection.value {
                            Value::Array(items) => items
                                .iter()
                                .enumerate()
                                .map(|(i, v)| {
                                    (self.node(Value::Number(Number::Int(i as i64))), v.clone())
                                })
                                .collect(),
                            Value::Object(o) => o
                                .entries
                                .iter()
                                .map(|e| (self.node(Value::String(e.key.clone())), e.value.clone()))
                                .collect(),
                            _ => return Err(Unrendered::Unknown),
                        };
                        let edges = (f.strip.strip_end(), dir.endfor_expr.strip.strip_start());
                        for (key, value) in pairs {
                            // Each round is a step: nested loops that print
                            // nothing still stop at the budget.
                            if !self.scope.budget.step() {
                                self.spent(expr);
                                return Err(Unrendered::Unknown);
                            }
                            let before = bound.len();
                            if let Some(k) = &f.key_var {
                                bound.push((k.as_str().to_string(), key));
                            }
                            bound.push((f.value_var.as_str().to_string(), value));
                            let rendered = self.render(expr, &f.template, edges, bound, d + 1, out);
                            bound.truncate(before);
                            rendered?;
                            if out.len() as u64 > self.limits().value_bytes {
                                break;
                            }
                        }
                    }
                },
            }
            if out.len() as u64 > self.limits().value_bytes {
                return Err(Unrendered::Over(format!(
                    "more than {} bytes",
                    self.limits().value_bytes
                )));
            }
        }
        Ok(())
    }

    /// The value a traversal (`var.x.y`, `local.l[0]`, `each.value`)
    /// reaches. Only what it reaches is copied, not the whole table entry.
    fn traversal(
        &self,
        t: &hcl_edit::expr::Traversal,
        bound: &mut Bindings,
        d: usize,
    ) -> Option<Node> {
        let mut ops = t.operators.iter().map(|o| o.value());
        let value: Cow<'_, Node> = match &t.expr {
            HclExpr::Variable(root) if bound.iter().any(|(n, _)| n == root.as_str()) => {
                Cow::Owned(self.eval(&t.expr, bound, d)?)
            }
            HclExpr::Variable(root) if self.scope_binding(root.as_str()).is_some() => {
                Cow::Borrowed(self.scope_binding(root.as_str())?)
            }
            HclExpr::Variable(root) if root.as_str() == "path" => {
                let Some(TraversalOperator::GetAttr(name)) = ops.next() else {
                    return None;
                };
                let files = self.scope.files.as_ref()?;
                match name.as_str() {
                    "module" => {
                        Cow::Owned(self.node(Value::String(files.disk.display(&files.module_dir))))
                    }
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
                Cow::Borrowed(table.get(&key)?)
            }
            other => Cow::Owned(self.eval(other, bound, d)?),
        };
        let ops: Vec<&TraversalOperator> = ops.collect();
        self.apply(value, &ops, bound, d)
    }

    /// Applies traversal operators to a value; a splat (`[*]`, `.*`)
    /// applies the rest to each element and gives the list of results.
    fn apply(
        &self,
        mut value: Cow<'_, Node>,
        ops: &[&TraversalOperator],
        bound: &mut Bindings,
        d: usize,
    ) -> Option<Node> {
        for (i, op) in ops.iter().enumerate() {
            value = match op {
                TraversalOperator::GetAttr(name) => child(value, |v| v.get(name.as_str()))?,
                TraversalOperator::LegacyIndex(n) => {
                    let index = usize::try_from(*n.value()).ok()?;
                    child(value, |v| v.as_array()?.get(index))?
                }
                TraversalOperator::Index(e) => {
                    let key = self.eval(e, bound, d)?;
                    let is_array = matches!(value.value, Value::Array(_));
                    let is_object = matches!(value.value, Value::Object(_));
                    match () {
                        () if is_array => {
                            let index = usize::try_from(number(&key)?.as_f64() as i64).ok()?;
                            child(value, |v| v.as_array()?.get(index))?
                        }
                        () if is_object => {
                            let key = text(&key)?;
                            child(value, |v| v.as_object()?.get(&key))?
                        }
                        _ => return None,
                    }
                }
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                    // A single value splats as a one-element list, null as none.
                    let elements: Vec<&Node> = match &value.value {
                        Value::Array(items) => items.iter().collect(),
                        Value::Null => Vec::new(),
                        _ => vec![&*value],
                    };
                    let mut out = Vec::with_capacity(elements.len());
                    for e in elements {
                        out.push(self.apply(Cow::Borrowed(e), &ops[i + 1..], bound, d)?);
                    }
                    return Some(self.node(Value::Array(out)));
                }
            };
            if matches!(value.value, Value::Expr(_)) {
                return None;
            }
        }
        Some(value.into_owned())
    }

    fn for_expr(
        &self,
        expr: &HclExpr,
        f: &hcl_edit::expr::ForExpr,
        bound: &mut Bindings,
        d: usize,
    ) -> Option<Built> {
        let collection = self.eval(&f.intro.collection_expr, bound, d)?;
        let pairs: Vec<(Node, &Node)> = match &collection.value {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (self.node(Value::Number(Number::Int(i as i64))), v))
                .collect(),
            Value::Object(o) => o
                .entries
                .iter()
                .map(|e| (self.node(Value::String(e.key.clone())), &e.value))
                .collect(),
            _ => return None,
        };
        let key_var = f.intro.key_var.as_ref().map(|k| k.as_str().to_string());
        let value_var = f.intro.value_var.as_str().to_string();
        let mut list = Vec::new();
        let mut object = Vec::new();
        let mut size = Size::container();
        let mut key_bytes = 0;
        for (k, v) in pairs {
            let before = bound.len();
            if let Some(kv) = &key_var {
                bound.push((kv.clone(), k));
            }
            bound.push((value_var.clone(), v.clone()));
            let result = self.for_element(f, bound, d);
            bound.truncate(before);
            let Some((key, value)) = result? else {
                continue;
            };
            // Items are counted as they come: a `for` over `for`s stops at
            // the limit instead of multiplying past it.
            size = size.with_item(value.size, key.as_ref().map_or(0, String::len));
            if let Some(why) = size.over(self.limits()) {
                return self.over_value(expr, &why);
            }
            match key {
                Some(key) => {
                    key_bytes += key.len();
                    object.push(Entry {
                        key,
                        key_span: self.at,
                        value: value.node,
                    });
                }
                None => list.push(value.node),
            }
        }
        let value = if f.key_expr.is_some() {
            Value::Object(Object { entries: object })
        } else {
            Value::Array(list)
        };
        self.composed(expr, value, size, key_bytes)
    }

    /// One element of a `for` expression, its variables bound: `None` when
    /// unknown, `Some(None)` when its condition leaves it out.
    #[allow(clippy::type_complexity)]
    fn for_element(
        &self,
        f: &hcl_edit::expr::ForExpr,
        bound: &mut Bindings,
        d: usize,
    ) -> Option<Option<(Option<String>, Built)>> {
        let keep = match &f.cond {
            Some(c) => truthy(&self.eval(&c.expr, bound, d)?)?,
            None => true,
        };
        if !keep {
            return Some(None);
        }
        let key = match &f.key_expr {
            Some(key) => Some(text(&self.eval(key, bound, d)?)?),
            None => None,
        };
        let value = self.sized(&f.value_expr, bound, d)?;
        Some(Some((key, value)))
    }
}

/// Why a template has no text.
enum Unrendered {
    /// A part of it is unknown.
    Unknown,
    /// Its text would be over the per-value budget (why).
    Over(String),
}

/// Whether the closing marker of `element` (`${x ~}`, `%{ endif ~}`)
/// strips whitespace from the literal after it.
fn strips_following(element: &Element) -> bool {
    use hcl_edit::template::Directive;
    match element {
        Element::Literal(_) => false,
        Element::Interpolation(i) => i.strip.strip_end(),
        Element::Directive(directive) => match &**directive {
            Directive::If(d) => d.endif_expr.strip.strip_end(),
            Directive::For(d) => d.endfor_expr.strip.strip_end(),
        },
    }
}

/// Whether the opening marker of `element` (`${~ x}`, `%{~ if c}`) strips
/// whitespace from the literal before it.
fn strips_preceding(element: &Element) -> bool {
    use hcl_edit::template::Directive;
    match element {
        Element::Literal(_) => false,
        Element::Interpolation(i) => i.strip.strip_start(),
        Element::Directive(directive) => match &**directive {
            Directive::If(d) => d.if_expr.strip.strip_start(),
            Directive::For(d) => d.for_expr.strip.strip_start(),
        },
    }
}

/// The part of `value` that `select` picks, borrowed when `value` is.
fn child<'b>(
    value: Cow<'b, Node>,
    select: impl Fn(&Node) -> Option<&Node>,
) -> Option<Cow<'b, Node>> {
    match value {
        Cow::Borrowed(v) => select(v).map(Cow::Borrowed),
        Cow::Owned(v) => select(&v).cloned().map(Cow::Owned),
    }
}

/// `text` on one line, cut to a length a diagnostic can show.
fn excerpt(text: &str) -> String {
    const MAX_CHARS: usize = 60;
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= MAX_CHARS {
        flat
    } else {
        let cut: String = flat.chars().take(MAX_CHARS).collect();
        format!("{cut}…")
    }
}

/// True when nothing in the value is unknown.
pub fn is_known(node: &Node) -> bool {
    node.is_literal()
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
