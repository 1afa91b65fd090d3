//! The JSON parser (plain, and with strings read as Terraform templates as
//! `.tf.json` does) never panics, and every span it returns is inside the
//! text.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart::parse::json::{Strings, parse};
use rampart::tree::LineIndex;

fuzz_target!(|bytes: &[u8]| {
    let Some(text) = rampart_fuzz::text_of(bytes) else {
        return;
    };
    let index = LineIndex::new(&text);
    for strings in [Strings::Plain, Strings::TerraformTemplates] {
        let parsed = parse(&text, &index, strings);
        rampart_fuzz::assert_spans_inside(&parsed, &text);
    }
});
