//! Which scanned Terraform directories are root modules: a directory that
//! another scanned directory calls as a module (`source = "../bucket"`) is
//! checked through those calls, with the caller's arguments, not also alone
//! with its defaults (which are usually not what any caller passes).

use crate::tree::Node;

/// The `source` of each module call in `document` written as a local path
/// (`./x`, `../x`): the only sources that can name a scanned directory.
pub fn local_sources(document: &Node) -> Vec<String> {
    let mut out = Vec::new();
    for block in document.get("module").map(Node::items).unwrap_or_default() {
        let Some(calls) = block.as_object() else {
            continue;
        };
        for call in &calls.entries {
            for body in call.value.items() {
                if let Some(source) = body.get("source").and_then(Node::as_str)
                    && (source.starts_with("./") || source.starts_with("../"))
                {
                    out.push(source.to_string());
                }
            }
        }
    }
    out
}

/// For `n` directories and the calls between them (`(caller, callee)`),
/// which are checked through calls: those reached by calls from a directory
/// nobody calls. A directory only in a cycle of calls, which no root
/// reaches, stays a root (checked alone) so nothing goes unchecked.
pub fn checked_through_calls(n: usize, calls: &[(usize, usize)]) -> Vec<bool> {
    let mut called = vec![false; n];
    for &(caller, callee) in calls {
        if caller != callee && callee < n {
            called[callee] = true;
        }
    }
    let mut reached = vec![false; n];
    let mut stack: Vec<usize> = (0..n).filter(|&i| !called[i]).collect();
    let mut seen = vec![false; n];
    while let Some(dir) = stack.pop() {
        if std::mem::replace(&mut seen[dir], true) {
            continue;
        }
        for &(caller, callee) in calls {
            if caller == dir && callee < n && callee != caller && !seen[callee] {
                reached[callee] = true;
                stack.push(callee);
            }
        }
    }
    reached
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn called_directories_reached_from_a_root_are_checked_through_calls() {
        // 0 calls 1, 1 calls 2; 3 and 4 call only each other.
        let calls = [(0, 1), (1, 2), (3, 4), (4, 3)];
        assert_eq!(
            checked_through_calls(5, &calls),
            vec![false, true, true, false, false]
        );
    }

    #[test]
    fn local_sources_are_read_from_module_blocks() {
        let text = "module \"a\" {\n  source = \"../a\"\n}\nmodule \"r\" {\n  source = \"hashicorp/x/aws\"\n}\n";
        let index = crate::tree::LineIndex::new(text);
        let parsed = crate::parse::hcl::parse(text, &index);
        assert_eq!(local_sources(&parsed.documents[0]), vec!["../a"]);
    }
}
