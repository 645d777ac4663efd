//! The barcode parser must refuse any input cleanly, never panic: scanners
//! misread, people type into the scan box, and the API takes any string.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        for year in [1999, 2026, 2075] {
            if let Ok(scan) = stockroom::domain::barcode::parse(text, year) {
                // A successful scan always identifies something or carries data.
                assert!(
                    scan.gtin.is_some()
                        || scan.hibcc.is_some()
                        || scan.sscc.is_some()
                        || !scan.elements.is_empty()
                );
            }
        }
    }
});
