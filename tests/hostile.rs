//! Hostile input: each test is a regression for one way a repository, a
//! flag or a configuration file once made rampart pass a gate by accident,
//! hang, eat memory or write where it must not. Runaway cases run under the
//! limits of `common::run_limited`, so a regression fails here instead of
//! exhausting the machine. The areas have their own files
//! (`hostile_*.rs`); this one checks the harness itself.

mod common;

use common::{code, rampart, run_limited, run_with_limits};

#[test]
fn the_binary_runs_under_the_limits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run_limited(rampart(dir.path()).arg("--version"));
    assert_eq!(code(&out), 0);
}

#[test]
fn a_child_over_its_address_space_fails_instead_of_growing() {
    // 64 MB of address space cannot hold a 256 MB buffer: the child fails
    // to allocate, which is what a runaway regression must do under the
    // limit.
    let mut cmd = std::process::Command::new("python3");
    cmd.args(["-c", "b = bytearray(256 << 20)"]);
    let out = run_with_limits(&mut cmd, 64 << 20, 10);
    assert!(!out.status.success());
}
