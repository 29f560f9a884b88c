#![no_main]
//! Configuration is hostile input too: any bytes given to the configuration reader (core's
//! `json::parse` then `Config::from_json_value`, as the Envoy filter and npm package call it) either build a
//! `Translator` or are refused with a message — never a panic — and a refusal names what is wrong.

use libfuzzer_sys::fuzz_target;
use tracebridge::translate::{Config, Translator};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else { return };
    let config = tracebridge::json::parse(text).and_then(|v| Config::from_json_value(&v, &["shadow", "shadow_header"]));
    match config {
        Ok(config) => {
            // Semantic checks either pass or name the key.
            if let Err(e) = Translator::new(config) {
                assert!(e.to_string().contains(':'), "refusal without a key: {e}");
            }
        }
        Err(e) => assert!(!e.to_string().is_empty(), "empty refusal"),
    }
});
