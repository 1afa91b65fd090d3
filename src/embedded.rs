//! The query library and its fixtures, built into the binary by `build.rs`
//! so `rampart` needs nothing beside it.

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
