//! The memory room's footprint. `allocation-counter` replaces this test binary's global
//! allocator and counts the heap bytes requested and freed by the measuring thread only, so
//! other tests running in parallel do not disturb the figure. The memory room never moves work
//! to another thread, so everything it allocates for these joins is counted.

use allocation_counter::AllocationInfo;
use rushline_gate::room::{MemoryRoom, RoomKey, WaitingRoom};

use crate::support::{at, patient, users};

const BUYERS: usize = 100_000;

/// Net heap bytes per buyer held after `fill` ran, and the peak while it ran.
fn measure(fill: impl FnOnce()) -> (f64, f64, AllocationInfo) {
    let info = allocation_counter::measure(fill);
    (
        info.bytes_current as f64 / BUYERS as f64,
        info.bytes_max as f64 / BUYERS as f64,
        info,
    )
}

fn hundred_thousand_waiting_buyers() {
    let room = MemoryRoom::new();
    let spec = patient(600);
    let buyers = users(BUYERS);

    // Joined in the pre-queue, then shuffled into the line at the opening.
    let shuffled = RoomKey("drop:prequeue".into());
    let (held, peak, info) = measure(|| {
        futures::executor::block_on(async {
            for &buyer in &buyers {
                room.join(&shuffled, &spec, buyer, at(-60)).await.unwrap();
            }
            room.stats(&shuffled, &spec, at(0)).await.unwrap();
        });
    });
    eprintln!(
        "memory room, {BUYERS} pre-queue buyers shuffled into the line: {held:.1} bytes per \
         waiting buyer held, {peak:.1} at the peak ({info:?})"
    );
    assert!(held <= 100.0, "{held:.1} bytes per waiting buyer");

    // Joined one by one after the opening.
    let arrivals = RoomKey("drop:arrivals".into());
    let (held, peak, info) = measure(|| {
        futures::executor::block_on(async {
            room.stats(&arrivals, &spec, at(0)).await.unwrap();
            for &buyer in &buyers {
                room.join(&arrivals, &spec, buyer, at(1)).await.unwrap();
            }
        });
    });
    eprintln!(
        "memory room, {BUYERS} buyers joined after the opening: {held:.1} bytes per waiting \
         buyer held, {peak:.1} at the peak ({info:?})"
    );
    assert!(held <= 100.0, "{held:.1} bytes per waiting buyer");

    let stats = futures::executor::block_on(room.stats(&arrivals, &spec, at(1))).unwrap();
    assert_eq!(stats.waiting, BUYERS as u64);
    let stats = futures::executor::block_on(room.stats(&shuffled, &spec, at(1))).unwrap();
    assert_eq!(stats.waiting, BUYERS as u64);
}

/// Every test here, run by `main.rs`; one left out of this table is dead code, which this test
/// target denies.
pub const TESTS: &[(&str, fn())] = &[(
    "hundred_thousand_waiting_buyers",
    hundred_thousand_waiting_buyers,
)];
