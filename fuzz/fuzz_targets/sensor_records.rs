//! Fuzzes the sensor's record decoder: any bytes as one ring record (a
//! record, or a CPU's batch of them) through `wire::decode_all`, as the
//! ring buffer callback does. Nothing may panic, the walk must end, and a
//! record that decodes alone must decode the same as a batch of one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_sensor::wire::{decode, decode_all, HDR_SIZE};

fuzz_target!(|data: &[u8]| {
    let mut records = 0usize;
    let mut errors = 0usize;
    for item in decode_all(data) {
        match item {
            Ok(r) => {
                records += 1;
                let _ = r.ts();
            }
            Err(e) => {
                errors += 1;
                let _ = e.to_string();
            }
        }
    }
    // Every record is at least a header long, and an error ends the walk.
    assert!(records <= data.len() / HDR_SIZE);
    assert!(errors <= 1);
    // A whole record (its size field equal to the input's length) is a
    // batch of one: the same record either way.
    let size = data.get(12..16).map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
    if size.is_some_and(|s| s as usize == data.len()) {
        let alone = decode(data);
        let first = decode_all(data).next();
        match (alone, first) {
            (Ok(a), Some(Ok(b))) => assert_eq!(a, b),
            (Err(_), Some(Err(_))) => {}
            (a, b) => panic!("alone {a:?}, as a batch {b:?}"),
        }
    }
});
