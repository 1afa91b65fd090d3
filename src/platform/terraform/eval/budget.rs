//! What evaluating one module may build and spend, so a small hostile file
//! costs little: sixty levels of `concat(local.a, local.a)` would otherwise
//! double past any machine (issue 21, item 11).
//!
//! Every value has a size (its elements, its bytes of text, its nesting
//! depth), computed as it is built; a value over [`Limits`] per value is not
//! built. Every module evaluation has a running total of steps (expressions
//! evaluated) and of what it allocated; past it, everything later in the
//! module is unknown. Either way exactly one diagnostic names the
//! expression, and the value stays unknown, which never fires a query: a
//! budget never creates a false positive.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;

use crate::diagnostic::Diagnostic;
use crate::tree::{Node, Value};

/// The limits of one evaluation: far above real configurations (the
/// largest values in the 2,214 Terraform files of the team's corpus have a
/// few thousand elements), far below the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Nodes in one value (a scalar is one, a list is one plus its items).
    pub value_elements: u64,
    /// Bytes of text (strings, keys, unknown expressions) in one value.
    pub value_bytes: u64,
    /// Nesting of lists and objects in one value.
    pub value_depth: u32,
    /// Expressions evaluated in one module (or in the module instances of
    /// one configuration).
    pub module_steps: u64,
    /// Nodes allocated in one module, every copy counted.
    pub module_elements: u64,
    /// Bytes of text allocated in one module, every copy counted.
    pub module_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            value_elements: 100_000,
            value_bytes: 8 << 20,
            value_depth: 64,
            module_steps: 2_000_000,
            module_elements: 2_000_000,
            module_bytes: 128 << 20,
        }
    }
}

/// The size of a value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Size {
    /// Nodes, the value itself included.
    pub elements: u64,
    /// Bytes of text.
    pub bytes: u64,
    /// Nesting depth: 0 for a scalar, 1 for a list of scalars.
    pub depth: u32,
}

impl Size {
    /// The size of `node`, measured no further than just past `limits`:
    /// measuring a huge value costs no more than the limit.
    pub fn of(node: &Node, limits: &Limits) -> Size {
        let mut size = Size::default();
        measure(node, limits, 0, &mut size);
        size
    }

    /// A scalar of `bytes` bytes of text.
    pub fn scalar(bytes: usize) -> Size {
        Size {
            elements: 1,
            bytes: bytes as u64,
            depth: 0,
        }
    }

    /// An empty list or object.
    pub fn container() -> Size {
        Size {
            elements: 1,
            bytes: 0,
            depth: 1,
        }
    }

    /// This container with one more item (and `key_bytes` of key).
    pub fn with_item(self, item: Size, key_bytes: usize) -> Size {
        Size {
            elements: self.elements.saturating_add(item.elements),
            bytes: self
                .bytes
                .saturating_add(item.bytes)
                .saturating_add(key_bytes as u64),
            depth: self.depth.max(item.depth.saturating_add(1)),
        }
    }

    /// `n` copies of a value of this size.
    pub fn times(self, n: usize) -> Size {
        let n = n as u64;
        Size {
            elements: self.elements.saturating_mul(n),
            bytes: self.bytes.saturating_mul(n),
            depth: self.depth,
        }
    }

    /// Which per-value limit this size is over, in words, if any.
    pub fn over(&self, limits: &Limits) -> Option<String> {
        if self.elements > limits.value_elements {
            Some(format!("more than {} elements", limits.value_elements))
        } else if self.bytes > limits.value_bytes {
            Some(format!("more than {} bytes", limits.value_bytes))
        } else if self.depth > limits.value_depth {
            Some(format!("nested more than {} deep", limits.value_depth))
        } else {
            None
        }
    }
}

/// Adds the size of `node` (at nesting `depth`) to `size`, stopping once
/// a limit is passed.
fn measure(node: &Node, limits: &Limits, depth: u32, size: &mut Size) {
    size.elements += 1;
    size.depth = size.depth.max(depth);
    if size.over(limits).is_some() {
        return;
    }
    match &node.value {
        Value::String(s) => size.bytes += s.len() as u64,
        Value::Expr(e) => size.bytes += e.source.len() as u64,
        Value::Array(items) => {
            size.depth = size.depth.max(depth + 1);
            for item in items {
                measure(item, limits, depth + 1, size);
                if size.over(limits).is_some() {
                    return;
                }
            }
        }
        Value::Object(o) => {
            size.depth = size.depth.max(depth + 1);
            for e in &o.entries {
                size.bytes += e.key.len() as u64;
                measure(&e.value, limits, depth + 1, size);
                if size.over(limits).is_some() {
                    return;
                }
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// The running totals of one module's evaluation, and the diagnostics it
/// gave. Shared (`Rc`) by every scope of the evaluation.
#[derive(Debug, Default)]
pub struct Budget {
    limits: Limits,
    steps: Cell<u64>,
    elements: Cell<u64>,
    bytes: Cell<u64>,
    /// Set once a module total is passed: every later step is refused.
    spent: Cell<bool>,
    /// How many times a value was refused, so `try(...)` can tell an
    /// argument unknown by nature from one unknown for lack of budget.
    refusals: Cell<u64>,
    /// Whether the spent budget was reported (once per module).
    spent_reported: Cell<bool>,
    /// (file, line, column) of expressions already reported.
    reported: RefCell<HashSet<(String, u32, u32)>>,
    diagnostics: RefCell<Vec<Diagnostic>>,
}

impl Budget {
    /// A budget with these limits.
    pub fn new(limits: Limits) -> Self {
        Budget {
            limits,
            ..Budget::default()
        }
    }

    /// The per-value and per-module limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Takes one evaluation step; false when the module's budget is spent.
    pub fn step(&self) -> bool {
        if self.spent.get() {
            return false;
        }
        let steps = self.steps.get() + 1;
        self.steps.set(steps);
        if steps > self.limits.module_steps {
            self.spent.set(true);
        }
        !self.spent.get()
    }

    /// Counts `size` as allocated; false when that passes a module total.
    pub fn charge(&self, size: Size) -> bool {
        if self.spent.get() {
            return false;
        }
        let elements = self.elements.get().saturating_add(size.elements);
        let bytes = self.bytes.get().saturating_add(size.bytes);
        self.elements.set(elements);
        self.bytes.set(bytes);
        if elements > self.limits.module_elements || bytes > self.limits.module_bytes {
            self.spent.set(true);
        }
        !self.spent.get()
    }

    /// Counts `copies` copies of `node` (a block about to be copied per
    /// instance) as allocated, measured up to the module's totals rather
    /// than one value's; false when that passes a module total.
    pub fn charge_copies(&self, node: &Node, copies: usize) -> bool {
        let whole = Limits {
            value_elements: self.limits.module_elements,
            value_bytes: self.limits.module_bytes,
            value_depth: u32::MAX,
            ..self.limits
        };
        self.charge(Size::of(node, &whole).times(copies))
    }

    /// Whether a module total was passed.
    pub fn is_spent(&self) -> bool {
        self.spent.get()
    }

    /// What was refused so far (see [`Budget::refusals`]'s field).
    pub fn refusals(&self) -> u64 {
        self.refusals.get()
    }

    /// Which module total is passed, in words.
    pub fn spent_on(&self) -> String {
        let l = &self.limits;
        if self.steps.get() > l.module_steps {
            format!("more than {} evaluation steps", l.module_steps)
        } else if self.elements.get() > l.module_elements {
            format!("more than {} elements built", l.module_elements)
        } else {
            format!("more than {} bytes built", l.module_bytes)
        }
    }

    /// Records a refused value: one diagnostic per position, however many
    /// times (instances, module calls) the expression is evaluated.
    pub fn refuse(&self, file: &str, line: u32, column: u32, message: String) {
        self.refusals.set(self.refusals.get() + 1);
        self.report(Diagnostic::error(file, line, column, message));
    }

    /// Records a notice (something evaluated less precisely than written,
    /// not left unknown), once per position.
    pub fn note(&self, file: &str, line: u32, column: u32, message: String) {
        self.report(Diagnostic::notice(file, line, column, message));
    }

    fn report(&self, diagnostic: Diagnostic) {
        let fresh = self.reported.borrow_mut().insert((
            diagnostic.file.clone(),
            diagnostic.line,
            diagnostic.column,
        ));
        if fresh {
            self.diagnostics.borrow_mut().push(diagnostic);
        }
    }

    /// Records an expression left unknown because the budget is spent: the
    /// first one gives the module's one diagnostic.
    pub fn refuse_spent(&self, file: &str, line: u32, column: u32, message: String) {
        self.refusals.set(self.refusals.get() + 1);
        if !self.spent_reported.replace(true) {
            self.diagnostics
                .borrow_mut()
                .push(Diagnostic::error(file, line, column, message));
        }
    }

    /// The diagnostics given so far, in the order given.
    pub fn take_diagnostics(&self) -> Vec<Diagnostic> {
        std::mem::take(&mut *self.diagnostics.borrow_mut())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Span;

    fn list(n: usize) -> Node {
        let item = Node::new(Value::String("ab".into()), Span::default());
        Node::new(Value::Array(vec![item; n]), Span::default())
    }

    #[test]
    fn sizes_count_nodes_text_and_depth() {
        let limits = Limits::default();
        let size = Size::of(&list(3), &limits);
        assert_eq!(
            size,
            Size {
                elements: 4,
                bytes: 6,
                depth: 1
            }
        );
        assert_eq!(size.over(&limits), None);
        let composed = Size::container()
            .with_item(Size::scalar(2), 0)
            .with_item(Size::scalar(2), 0)
            .with_item(Size::scalar(2), 0);
        assert_eq!(composed, size);
    }

    #[test]
    fn measuring_stops_just_past_the_limit() {
        let limits = Limits {
            value_elements: 10,
            ..Limits::default()
        };
        let size = Size::of(&list(1000), &limits);
        assert_eq!(size.elements, 11);
        assert_eq!(size.over(&limits).as_deref(), Some("more than 10 elements"));
    }

    #[test]
    fn a_spent_budget_refuses_every_later_step_and_reports_once() {
        let budget = Budget::new(Limits {
            module_steps: 2,
            ..Limits::default()
        });
        assert!(budget.step() && budget.step());
        assert!(!budget.step());
        assert!(!budget.step());
        assert!(budget.is_spent());
        assert_eq!(budget.spent_on(), "more than 2 evaluation steps");
        budget.refuse("main.tf", 3, 7, "one".into());
        budget.refuse("main.tf", 3, 7, "again".into());
        assert_eq!(budget.take_diagnostics().len(), 1);
        assert_eq!(budget.refusals(), 2);
    }
}
