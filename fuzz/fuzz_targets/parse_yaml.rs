//! The yaml parser never panics, and every span it returns is inside the text.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart::tree::LineIndex;

fuzz_target!(|bytes: &[u8]| {
    let Some(text) = rampart_fuzz::text_of(bytes) else {
        return;
    };
    let index = LineIndex::new(&text);
    let parsed = rampart::parse::yaml::parse(&text, &index);
    rampart_fuzz::assert_spans_inside(&parsed, &text);
});
