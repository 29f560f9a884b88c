#![no_main]
//! Configuration is hostile input too: any bytes given to the configuration reader (core's
//! `json::from_str_seed` with `ConfigSeed`, as the Envoy filter and npm package call it) either build a
//! `Translator` or are refused with a message — never a panic — and a refusal names what is wrong.

use libfuzzer_sys::fuzz_target;
use tracebridge::translate::{ConfigSeed, Translator};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else { return };
    match tracebridge::json::from_str_seed(ConfigSeed { extra_keys: &["shadow", "shadow_header"] }, text) {
        Ok(config) => {
            // Semantic checks either pass or name the key.
            if let Err(e) = Translator::new(config) {
                assert!(e.to_string().contains(':'), "refusal without a key: {e}");
            }
        }
        Err(e) => assert!(!e.to_string().is_empty(), "empty refusal"),
    }
});
