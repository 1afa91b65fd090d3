//! Running work over units in parallel, with a failure in one unit contained
//! to that unit.
//!
//! Every command that reads IaC (`inspect`, and `scan` once queries exist)
//! goes through [`for_each_unit`]: units are loaded on a rayon pool, handed
//! to the caller's function, and dropped, so memory stays flat however many
//! files there are. Results come back in unit order whatever the thread
//! schedule, so output is deterministic.

use std::panic::{AssertUnwindSafe, catch_unwind};

use rayon::prelude::*;

use crate::diagnostic::Diagnostic;
use crate::load::{LoadOptions, LoadedUnit, Unit, load_unit};

/// Stack for worker threads. Parsers refuse nesting past
/// [`crate::parse::MAX_DEPTH`] before recursing; this leaves ample room
/// below that limit whatever the parser's frame sizes.
const WORKER_STACK: usize = 16 * 1024 * 1024;

/// Loads every unit on `threads` workers (0: one per core) and applies `f`
/// to each. A unit whose loading or processing panics yields a diagnostic
/// naming its files instead of a result; the other units are unaffected.
pub fn for_each_unit<R, F>(
    units: &[Unit],
    options: LoadOptions,
    threads: usize,
    f: F,
) -> Vec<Result<R, Diagnostic>>
where
    R: Send,
    F: Fn(LoadedUnit) -> R + Sync,
{
    let work = || {
        units
            .par_iter()
            .map(|unit| {
                catch_unwind(AssertUnwindSafe(|| f(load_unit(unit, options)))).map_err(|panic| {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    let files: Vec<&str> = unit.files.iter().map(|f| f.display.as_str()).collect();
                    Diagnostic::error(
                        files.first().copied().unwrap_or_default(),
                        0,
                        0,
                        format!(
                            "internal error while reading {}: {what} (please report this)",
                            files.join(", ")
                        ),
                    )
                })
            })
            .collect()
    };
    match rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .stack_size(WORKER_STACK)
        .build()
    {
        Ok(pool) => pool.install(work),
        // No pool (the OS refused threads): run on the global one.
        Err(_) => work(),
    }
}
