//! Dependency order for values that refer to each other (locals), in time
//! linear in the values and references: 10,000 locals written in reverse
//! order once took a pass per local (issue 21, item 10).

/// The strongly connected components of the graph where `deps[i]` lists
/// what `i` depends on, each component after every component it depends on
/// (Tarjan's algorithm, with an explicit stack: a chain of 100,000 does
/// not overflow the call stack). A component of several nodes, or of one
/// that depends on itself, is a cycle.
pub fn components(deps: &[Vec<usize>]) -> Vec<Vec<usize>> {
    const UNVISITED: usize = usize::MAX;
    let n = deps.len();
    let mut index = vec![UNVISITED; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<usize> = Vec::new();
    let mut out = Vec::new();
    let mut next = 0;
    for root in 0..n {
        if index[root] != UNVISITED {
            continue;
        }
        // (node, how many of its dependencies were looked at)
        let mut calls: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut seen)) = calls.last_mut() {
            if let Some(&w) = deps[v].get(*seen) {
                *seen += 1;
                if index[w] == UNVISITED {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    calls.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            calls.pop();
            if let Some(&(parent, _)) = calls.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                component.reverse();
                out.push(component);
            }
        }
    }
    out
}

/// Whether `component` (from [`components`]) is a cycle.
pub fn is_cycle(component: &[usize], deps: &[Vec<usize>]) -> bool {
    match component {
        [single] => deps[*single].contains(single),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_come_first() {
        // 0 needs 1, 1 needs 2: evaluated 2, 1, 0.
        let deps = vec![vec![1], vec![2], vec![]];
        assert_eq!(components(&deps), vec![vec![2], vec![1], vec![0]]);
    }

    #[test]
    fn cycles_are_one_component_after_what_they_need() {
        // 0 and 1 need each other and 2; 3 needs itself; 4 needs 0.
        let deps = vec![vec![1, 2], vec![0], vec![], vec![3], vec![0]];
        let order = components(&deps);
        assert_eq!(order, vec![vec![2], vec![0, 1], vec![3], vec![4]]);
        let cycles: Vec<bool> = order.iter().map(|c| is_cycle(c, &deps)).collect();
        assert_eq!(cycles, vec![false, true, true, false]);
    }

    #[test]
    fn a_long_chain_does_not_overflow_the_stack() {
        let n = 200_000;
        let deps: Vec<Vec<usize>> = (0..n)
            .map(|i| if i + 1 < n { vec![i + 1] } else { vec![] })
            .collect();
        let order = components(&deps);
        assert_eq!(order.len(), n);
        assert_eq!(order[0], vec![n - 1]);
        assert_eq!(order[n - 1], vec![0]);
    }
}
