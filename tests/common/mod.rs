//! Helpers shared by the integration tests that run the `rampart` binary
//! on hostile input.
//!
//! A runaway case (a value that doubles sixty times, a parse that
//! backtracks) must fail its test, not take the machine down: the child
//! runs under an address-space limit and a CPU-time limit set just before
//! it starts. These limits are budgets that kill a regression, not timing
//! assertions: a healthy run stays far below them.

#![allow(dead_code)]

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output};

/// Address space allowed to a child under test: far above what a healthy
/// scan of a small tree needs (tens of MB), far below the machine.
pub const ADDRESS_SPACE: u64 = 2 << 30;

/// CPU seconds allowed to a child under test.
pub const CPU_SECONDS: u64 = 60;

/// Writes `content` at `root/path`, creating directories.
pub fn write(root: &Path, path: &str, content: impl AsRef<[u8]>) {
    let path = root.join(path);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("mkdir");
    }
    fs::write(path, content).expect("write");
}

/// The `rampart` binary, run in `dir`, with no configuration or colour from
/// the environment.
pub fn rampart(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rampart"));
    cmd.current_dir(dir)
        .env_remove("RAMPART_CONFIG")
        .env("NO_COLOR", "1");
    cmd
}

/// Runs `cmd` with the address-space and CPU limits above.
pub fn run_limited(cmd: &mut Command) -> Output {
    run_with_limits(cmd, ADDRESS_SPACE, CPU_SECONDS)
}

/// Runs `cmd` with an address-space limit (bytes) and a CPU-time limit
/// (seconds); the child is killed (SIGSEGV/abort on allocation failure,
/// SIGXCPU/SIGKILL on CPU) when it exceeds them, and the test then sees a
/// failed exit instead of the machine running out.
pub fn run_with_limits(cmd: &mut Command, address_space: u64, cpu_seconds: u64) -> Output {
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between
    // fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let limit = |resource, value: u64| {
                let rl = libc::rlimit {
                    rlim_cur: value as libc::rlim_t,
                    rlim_max: value as libc::rlim_t,
                };
                if libc::setrlimit(resource, &rl) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            };
            limit(libc::RLIMIT_AS, address_space)?;
            limit(libc::RLIMIT_CPU, cpu_seconds)?;
            Ok(())
        });
    }
    cmd.output().expect("child runs")
}

/// Stdout as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Stdout parsed as one JSON document; panics with stderr when it is not.
pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}); exit {:?}; stderr:\n{}",
            output.status.code(),
            stderr(output)
        )
    })
}

/// The exit code; panics with stderr when the child was killed by a
/// signal (a limit above was hit).
pub fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or_else(|| {
        panic!(
            "killed by a signal (a resource limit was exceeded?): {:?}\nstderr:\n{}",
            output.status,
            stderr(output)
        )
    })
}
