//! Backend-agnostic test bodies; `main.rs` runs each against every backend. The clock is
//! manual throughout: every call gets its `now`.

use std::sync::Arc;

use chrono::TimeDelta;
use futures::future::{LocalBoxFuture, join_all};
use rushline_gate::room::{
    Admission, CATCH_UP, ExpiryReason, JoinOutcome, RoomKey, RoomSpec, RoomStats, Status,
    TicketState, WaitingRoom,
};
use uuid::Uuid;

use crate::support::{
    NewRoom, XorShift, at, documented_shuffle, is_admitted, join, key, patient, position, secs,
    spec, t0, ticket, users,
};

async fn join_is_idempotent(new_room: &NewRoom) {
    let room = new_room();
    let spec = spec(60);
    let [a, b, c] = users(3)[..] else {
        unreachable!()
    };

    // In the pre-queue: a place, but no position yet.
    let first = join(&*room, &spec, a, at(-60)).await;
    assert_eq!(first.ticket, 1);
    assert_eq!(
        first.state,
        TicketState::Waiting {
            position: None,
            estimated_wait: None
        }
    );
    assert_eq!(join(&*room, &spec, a, at(-50)).await, first);
    assert_eq!(join(&*room, &spec, b, at(-40)).await.ticket, 2);

    // After the opening the same tickets, now with positions.
    let a_open = join(&*room, &spec, a, at(0)).await;
    let b_open = join(&*room, &spec, b, at(0)).await;
    assert_eq!((a_open.ticket, b_open.ticket), (1, 2));
    let mut positions = [position(&a_open), position(&b_open)];
    positions.sort();
    assert_eq!(positions, [Some(1), Some(2)]);

    let c_first = join(&*room, &spec, c, at(1)).await;
    assert_eq!(c_first.ticket, 3);
    assert_eq!(position(&c_first), Some(3));
    assert_eq!(join(&*room, &spec, c, at(2)).await.ticket, 3);
    assert_eq!(position(&join(&*room, &spec, c, at(2)).await), Some(3));

    // An admitted buyer who joins again keeps the pass rather than a new place.
    let admission = room.admit(&key(), &spec, at(1)).await.unwrap();
    assert_eq!(admission.admitted, 2);
    let again = join(&*room, &spec, a, at(3)).await;
    assert_eq!(again.ticket, 1);
    assert_eq!(
        again.state,
        TicketState::Admitted {
            pass_expires_at: at(1) + RoomSpec::DEFAULT_SESSION
        }
    );
    assert_eq!(room.stats(&key(), &spec, at(3)).await.unwrap().waiting, 1);
}

async fn not_open_before_the_prequeue_window(new_room: &NewRoom) {
    let room = new_room();
    let spec = RoomSpec {
        prequeue: secs(90),
        ..spec(60)
    };
    let buyer = Uuid::new_v4();

    assert_eq!(
        room.join(&key(), &spec, buyer, at(-91)).await.unwrap(),
        JoinOutcome::NotOpenYet {
            queue_opens_at: at(-90)
        }
    );
    assert_eq!(
        room.status(&key(), &spec, buyer, at(-91)).await.unwrap(),
        Status::NotInQueue
    );
    assert_eq!(
        room.stats(&key(), &spec, at(-91)).await.unwrap(),
        RoomStats::default()
    );

    assert_eq!(join(&*room, &spec, buyer, at(-90)).await.ticket, 1);
    assert_eq!(position(&ticket(&*room, &spec, buyer, at(-1)).await), None);
    assert_eq!(room.admit(&key(), &spec, at(-1)).await.unwrap().admitted, 0);
    assert_eq!(room.seed(&key()).await.unwrap(), None);
    assert_eq!(room.stats(&key(), &spec, at(-1)).await.unwrap().waiting, 1);

    // The first operation at opens_at opens the room.
    assert_eq!(
        position(&ticket(&*room, &spec, buyer, at(0)).await),
        Some(1)
    );
    assert!(room.seed(&key()).await.unwrap().is_some());
    assert_eq!(room.admit(&key(), &spec, at(0)).await.unwrap().admitted, 1);
    assert!(is_admitted(&ticket(&*room, &spec, buyer, at(0)).await));
}

async fn prequeue_shuffle_is_a_reproducible_permutation(new_room: &NewRoom) {
    let room = new_room();
    let spec = patient(600);
    let buyers = users(200);
    for (i, &buyer) in buyers.iter().enumerate() {
        join(
            &*room,
            &spec,
            buyer,
            at(-600) + TimeDelta::milliseconds(i as i64),
        )
        .await;
    }
    assert_eq!(room.seed(&key()).await.unwrap(), None);

    room.stats(&key(), &spec, at(0)).await.unwrap();
    let seed = room.seed(&key()).await.unwrap().expect("open at opens_at");
    assert_eq!(seed.len(), 32);
    assert!(seed.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));

    let expected = documented_shuffle(&seed, &buyers);
    let mut by_position = vec![None; buyers.len()];
    for &buyer in &buyers {
        let p = position(&ticket(&*room, &spec, buyer, at(0)).await).unwrap() as usize;
        assert!(
            by_position[p - 1].replace(buyer).is_none(),
            "position {p} twice"
        );
    }
    let actual: Vec<Uuid> = by_position.into_iter().map(Option::unwrap).collect();
    assert_eq!(actual, expected, "the line follows the documented rule");
    assert_ne!(actual, buyers, "the pre-queue was shuffled");

    // Admission follows the same order.
    let admitted = room.admit(&key(), &spec, at(5)).await.unwrap().admitted as usize;
    assert_eq!(admitted, 51);
    for (i, &buyer) in expected.iter().enumerate() {
        let t = ticket(&*room, &spec, buyer, at(5)).await;
        assert_eq!(
            is_admitted(&t),
            i < admitted,
            "buyer {i} of the shuffled line"
        );
    }
    // The seed was recorded once.
    room.admit(&key(), &spec, at(6)).await.unwrap();
    assert_eq!(room.seed(&key()).await.unwrap(), Some(seed));
}

async fn late_joiners_follow_the_prequeue_in_arrival_order(new_room: &NewRoom) {
    let room = new_room();
    let spec = patient(60);
    let early = users(3);
    for &buyer in &early {
        join(&*room, &spec, buyer, at(-60)).await;
    }
    room.stats(&key(), &spec, at(0)).await.unwrap();
    let seed = room.seed(&key()).await.unwrap().unwrap();

    let late = users(5);
    for (i, &buyer) in late.iter().enumerate() {
        let t = join(&*room, &spec, buyer, at(1 + i as i64)).await;
        assert_eq!(t.ticket, 4 + i as u64);
        assert_eq!(position(&t), Some(4 + i as u64));
    }

    // Slots at 0..=5 s: the whole pre-queue, then the first three late joiners.
    assert_eq!(room.admit(&key(), &spec, at(5)).await.unwrap().admitted, 6);
    let mut line = documented_shuffle(&seed, &early);
    line.extend(&late);
    for (i, &buyer) in line.iter().enumerate() {
        let t = ticket(&*room, &spec, buyer, at(5)).await;
        if i < 6 {
            assert!(is_admitted(&t), "buyer {i}");
        } else {
            assert_eq!(position(&t), Some(i as u64 - 5), "buyer {i}");
        }
    }
}

/// Waiting buyers that never go idle, enough for ten minutes at `rate`.
async fn full_room(new_room: &NewRoom, rate: u32) -> (Arc<dyn WaitingRoom>, RoomKey, RoomSpec) {
    let room = new_room();
    let room_key = RoomKey(format!("drop:rate-{rate}"));
    let spec = patient(rate);
    let joins = users(rate as usize * 10 + 20).into_iter().map(|buyer| {
        let (room, room_key, spec) = (room.clone(), room_key.clone(), spec.clone());
        async move { room.join(&room_key, &spec, buyer, at(-60)).await.unwrap() }
    });
    join_all(joins).await;
    (room, room_key, spec)
}

async fn admission_rate_holds_with_one_second_steps(new_room: &NewRoom) {
    for rate in [7u32, 60, 150] {
        let (room, room_key, spec) = full_room(new_room, rate).await;
        let most_per_second = rate.div_ceil(60);
        // A tick admits the slots of the second that ends at it, so minute m is the ticks in
        // (60m, 60m + 60]; the opening tick at 0 (the slot at exactly opens_at) goes to minute 0.
        let mut per_minute = [0u32; 10];
        for second in 0..=600 {
            let Admission {
                admitted,
                abandoned,
            } = room.admit(&room_key, &spec, at(second)).await.unwrap();
            assert_eq!(abandoned, 0);
            assert!(
                admitted <= most_per_second,
                "rate {rate}: {admitted} admitted at second {second}, a burst"
            );
            per_minute[(second.max(1) as usize - 1) / 60] += admitted;
        }
        for (minute, &admitted) in per_minute.iter().enumerate() {
            assert!(
                admitted.abs_diff(rate) <= 1,
                "rate {rate}: {admitted} admitted in minute {minute}: {per_minute:?}"
            );
        }
        let total: u32 = per_minute.iter().sum();
        let stats = room.stats(&room_key, &spec, at(600)).await.unwrap();
        assert_eq!(stats.admitted, u64::from(total));
        assert_eq!(stats.waiting, u64::from(rate * 10 + 20 - total));
        assert!(stats.admitted_last_minute.abs_diff(u64::from(rate)) <= 1);
    }
}

async fn admission_rate_holds_with_irregular_steps(new_room: &NewRoom) {
    for rate in [7u32, 60, 150] {
        let (room, room_key, spec) = full_room(new_room, rate).await;
        let interval_ms = 60_000f64 / f64::from(rate);
        let mut steps = XorShift(0x9e37_79b9_7f4a_7c15 ^ u64::from(rate));
        let (mut now_ms, mut total) = (0i64, 0u32);
        while now_ms < 600_000 {
            let step = steps.next_in(100, 4_900);
            now_ms += step;
            let admitted = room
                .admit(&room_key, &spec, t0() + TimeDelta::milliseconds(now_ms))
                .await
                .unwrap()
                .admitted;
            // At most the slots that came due during the step, plus the one at the start.
            let most = (step as f64 / interval_ms).ceil() as u32 + 1;
            assert!(
                admitted <= most,
                "rate {rate}: {admitted} in a {step} ms step"
            );
            total += admitted;
        }
        let minutes = now_ms as f64 / 60_000.0;
        let per_minute = f64::from(total) / minutes;
        assert!(
            (per_minute - f64::from(rate)).abs() <= 1.0,
            "rate {rate}: {total} admitted in {minutes:.2} minutes = {per_minute:.2}/min"
        );
    }
}

async fn no_burst_after_a_quiet_spell(new_room: &NewRoom) {
    let room = new_room();
    let spec = patient(60);
    for second in (0..=300).step_by(10) {
        assert_eq!(
            room.admit(&key(), &spec, at(second))
                .await
                .unwrap()
                .admitted,
            0
        );
    }
    for buyer in users(100) {
        join(&*room, &spec, buyer, at(300)).await;
    }
    // Five minutes of unused slots: only the catch-up's worth comes back.
    let most = (CATCH_UP.num_seconds() + 1) as u32;
    let admitted = room.admit(&key(), &spec, at(300)).await.unwrap().admitted;
    assert!(
        (1..=most).contains(&admitted),
        "{admitted} admitted at once"
    );
    assert_eq!(
        room.admit(&key(), &spec, at(301)).await.unwrap().admitted,
        1
    );
    assert_eq!(
        room.admit(&key(), &spec, at(301)).await.unwrap().admitted,
        0
    );
}

async fn max_active_holds_and_consume_frees_a_slot(new_room: &NewRoom) {
    let room = new_room();
    let spec = RoomSpec {
        max_active: Some(3),
        ..patient(600)
    };
    let buyers = users(10);
    for &buyer in &buyers {
        join(&*room, &spec, buyer, at(-30)).await;
    }
    for second in 0..10 {
        room.admit(&key(), &spec, at(second)).await.unwrap();
        let stats = room.stats(&key(), &spec, at(second)).await.unwrap();
        assert!(stats.active <= 3, "{stats:?} at {second}");
    }
    let stats = room.stats(&key(), &spec, at(9)).await.unwrap();
    assert_eq!((stats.active, stats.admitted, stats.waiting), (3, 3, 7));

    let mut admitted = Vec::new();
    for &buyer in &buyers {
        if is_admitted(&ticket(&*room, &spec, buyer, at(9)).await) {
            admitted.push(buyer);
        }
    }
    assert_eq!(admitted.len(), 3);
    let waiting = *buyers.iter().find(|b| !admitted.contains(b)).unwrap();
    assert!(!room.consume(&key(), waiting, at(9)).await.unwrap());
    assert!(!room.consume(&key(), Uuid::new_v4(), at(9)).await.unwrap());

    assert!(room.consume(&key(), admitted[0], at(9)).await.unwrap());
    assert!(
        !room.consume(&key(), admitted[0], at(9)).await.unwrap(),
        "used once"
    );
    assert_eq!(
        room.status(&key(), &spec, admitted[0], at(9))
            .await
            .unwrap(),
        Status::NotInQueue
    );
    assert_eq!(room.stats(&key(), &spec, at(9)).await.unwrap().active, 2);

    assert_eq!(room.admit(&key(), &spec, at(10)).await.unwrap().admitted, 1);
    assert_eq!(room.admit(&key(), &spec, at(20)).await.unwrap().admitted, 0);
    let stats = room.stats(&key(), &spec, at(20)).await.unwrap();
    assert_eq!((stats.active, stats.admitted, stats.waiting), (3, 4, 6));

    // When the passes run out, their slots free up too.
    let ended = at(10) + RoomSpec::DEFAULT_SESSION;
    assert_eq!(room.admit(&key(), &spec, ended).await.unwrap().admitted, 3);
    assert_eq!(room.stats(&key(), &spec, ended).await.unwrap().active, 3);
}

async fn passes_expire_after_the_session(new_room: &NewRoom) {
    let room = new_room();
    let spec = patient(60);
    let [a, b] = users(2)[..] else { unreachable!() };
    room.stats(&key(), &spec, at(0)).await.unwrap();
    let a_ticket = join(&*room, &spec, a, at(0)).await.ticket;
    join(&*room, &spec, b, at(0)).await;
    assert_eq!(room.admit(&key(), &spec, at(0)).await.unwrap().admitted, 1);

    let expires = at(0) + RoomSpec::DEFAULT_SESSION;
    let held = ticket(&*room, &spec, a, expires - secs(1)).await;
    assert_eq!(
        held.state,
        TicketState::Admitted {
            pass_expires_at: expires
        }
    );
    assert_eq!(
        room.stats(&key(), &spec, expires - secs(1))
            .await
            .unwrap()
            .active,
        1
    );

    assert_eq!(room.stats(&key(), &spec, expires).await.unwrap().active, 0);
    assert!(!room.consume(&key(), a, expires).await.unwrap());
    assert_eq!(
        room.status(&key(), &spec, a, expires).await.unwrap(),
        Status::Expired {
            ticket: a_ticket,
            reason: ExpiryReason::PassExpired
        }
    );
    assert_eq!(
        room.status(&key(), &spec, a, expires).await.unwrap(),
        Status::NotInQueue
    );
    // Back in line, behind b.
    let again = join(&*room, &spec, a, expires).await;
    assert_eq!(again.ticket, 3);
    assert_eq!(position(&again), Some(2));
}

async fn idle_places_expire_then_rejoin_at_the_back(new_room: &NewRoom) {
    let room = new_room();
    let spec = spec(60);
    let [a, b, c] = users(3)[..] else {
        unreachable!()
    };
    room.stats(&key(), &spec, at(0)).await.unwrap();
    let a_ticket = join(&*room, &spec, a, at(0)).await.ticket;
    join(&*room, &spec, b, at(0)).await;
    join(&*room, &spec, c, at(0)).await;
    for second in [60, 110] {
        ticket(&*room, &spec, b, at(second)).await;
        ticket(&*room, &spec, c, at(second)).await;
    }
    // a last polled at 0: gone at 120 s.
    assert_eq!(
        room.status(&key(), &spec, a, at(120)).await.unwrap(),
        Status::Expired {
            ticket: a_ticket,
            reason: ExpiryReason::Abandoned
        }
    );
    assert_eq!(
        room.status(&key(), &spec, a, at(120)).await.unwrap(),
        Status::NotInQueue
    );
    assert_eq!(position(&ticket(&*room, &spec, b, at(120)).await), Some(1));
    let back = join(&*room, &spec, a, at(121)).await;
    assert_eq!((back.ticket, position(&back)), (4, Some(3)));
    assert_eq!(
        room.stats(&key(), &spec, at(121)).await.unwrap().abandoned,
        1
    );

    // Idle in the pre-queue, too.
    let early_room = RoomKey("drop:idle-prequeue".into());
    let d = Uuid::new_v4();
    room.join(&early_room, &spec, d, at(-600)).await.unwrap();
    let status = room.status(&early_room, &spec, d, at(-480)).await.unwrap();
    assert!(matches!(
        status,
        Status::Expired {
            reason: ExpiryReason::Abandoned,
            ..
        }
    ));
    let rejoined = room.join(&early_room, &spec, d, at(-470)).await.unwrap();
    assert!(matches!(rejoined, JoinOutcome::Joined(t) if t.ticket == 2));
}

async fn admission_skips_idle_places(new_room: &NewRoom) {
    let room = new_room();
    let spec = spec(60);
    let [a, b, c] = users(3)[..] else {
        unreachable!()
    };
    room.stats(&key(), &spec, at(0)).await.unwrap();
    let a_ticket = join(&*room, &spec, a, at(0)).await.ticket;
    join(&*room, &spec, b, at(0)).await;
    join(&*room, &spec, c, at(0)).await;
    // An idle place still counts ahead until someone notices it is gone.
    assert_eq!(position(&ticket(&*room, &spec, b, at(100)).await), Some(2));
    ticket(&*room, &spec, c, at(100)).await;

    assert_eq!(
        room.admit(&key(), &spec, at(130)).await.unwrap(),
        Admission {
            admitted: 2,
            abandoned: 1
        }
    );
    assert!(is_admitted(&ticket(&*room, &spec, b, at(130)).await));
    assert!(is_admitted(&ticket(&*room, &spec, c, at(130)).await));
    assert_eq!(
        room.status(&key(), &spec, a, at(131)).await.unwrap(),
        Status::Expired {
            ticket: a_ticket,
            reason: ExpiryReason::Abandoned
        }
    );
    assert_eq!(
        room.status(&key(), &spec, a, at(131)).await.unwrap(),
        Status::NotInQueue
    );
    let stats = room.stats(&key(), &spec, at(131)).await.unwrap();
    assert_eq!((stats.admitted, stats.abandoned, stats.waiting), (2, 1, 0));
}

async fn stats_count_the_room(new_room: &NewRoom) {
    let room = new_room();
    let spec = patient(60);
    let buyers = users(5);
    for &buyer in &buyers {
        join(&*room, &spec, buyer, at(-60)).await;
    }
    assert_eq!(
        room.stats(&key(), &spec, at(-1)).await.unwrap(),
        RoomStats {
            waiting: 5,
            peak_waiting: 5,
            ..RoomStats::default()
        }
    );
    assert_eq!(room.admit(&key(), &spec, at(2)).await.unwrap().admitted, 3);
    assert_eq!(
        room.stats(&key(), &spec, at(2)).await.unwrap(),
        RoomStats {
            waiting: 2,
            admitted: 3,
            active: 3,
            admitted_last_minute: 3,
            abandoned: 0,
            peak_waiting: 5,
            used: 0,
            median_wait: Some(secs(2)),
        }
    );
    let mut used = false;
    for &buyer in &buyers {
        used = used || room.consume(&key(), buyer, at(3)).await.unwrap();
    }
    assert!(used);
    assert_eq!(
        room.stats(&key(), &spec, at(62)).await.unwrap(),
        RoomStats {
            waiting: 2,
            admitted: 3,
            active: 2,
            admitted_last_minute: 0,
            abandoned: 0,
            peak_waiting: 5,
            used: 1,
            median_wait: Some(secs(2)),
        }
    );
}

/// The figures a seller reads after the sale: the longest line, the median wait (a pre-queue
/// place waits from the opening, a later one from its join; the lower median of an even count)
/// and the passes used.
async fn stats_keep_the_peak_the_median_wait_and_the_passes_used(new_room: &NewRoom) {
    let room = new_room();
    let spec = patient(60);
    let buyers = users(5);
    for &buyer in &buyers[..3] {
        join(&*room, &spec, buyer, at(-60)).await;
    }
    let none = room.stats(&key(), &spec, at(-1)).await.unwrap();
    assert_eq!((none.peak_waiting, none.median_wait), (3, None));
    // One admission a second: the pre-queue at 0, 1 and 2 (waits 0, 1, 2 from the opening),
    // the buyer who joined at 1 at 3 (a wait of 2).
    assert_eq!(room.admit(&key(), &spec, at(0)).await.unwrap().admitted, 1);
    join(&*room, &spec, buyers[3], at(1)).await;
    for second in 1..=3 {
        assert_eq!(
            room.admit(&key(), &spec, at(second))
                .await
                .unwrap()
                .admitted,
            1
        );
    }
    let four = room.stats(&key(), &spec, at(3)).await.unwrap();
    assert_eq!((four.waiting, four.peak_waiting), (0, 3));
    assert_eq!(four.median_wait, Some(secs(1)), "the second of 0, 1, 2, 2");
    // A late joiner admitted at once: 0, 0, 1, 2, 2.
    join(&*room, &spec, buyers[4], at(10)).await;
    assert_eq!(room.admit(&key(), &spec, at(10)).await.unwrap().admitted, 1);
    let mut used = 0;
    for &buyer in &buyers {
        if room.consume(&key(), buyer, at(11)).await.unwrap() {
            used += 1;
        }
        assert!(
            !room.consume(&key(), buyer, at(11)).await.unwrap(),
            "a pass is used once"
        );
    }
    let five = room.stats(&key(), &spec, at(11)).await.unwrap();
    assert_eq!(
        (
            five.admitted,
            five.used,
            five.median_wait,
            five.peak_waiting
        ),
        (5, 5, Some(secs(1)), 3)
    );
    assert_eq!(used, 5);
}

async fn estimated_wait_follows_the_observed_rate(new_room: &NewRoom) {
    let room = new_room();
    // Configured for 600 a minute, but passes last a minute and only 10 may be active.
    let spec = RoomSpec {
        max_active: Some(10),
        session: secs(60),
        ..patient(600)
    };
    let buyers = users(200);
    for &buyer in &buyers {
        join(&*room, &spec, buyer, at(-60)).await;
    }

    // In the first minute the configured rate stands in.
    room.admit(&key(), &spec, at(0)).await.unwrap();
    let seed = room.seed(&key()).await.unwrap().unwrap();
    let last = *documented_shuffle(&seed, &buyers).last().unwrap();
    let t = ticket(&*room, &spec, last, at(0)).await;
    let TicketState::Waiting {
        position: Some(p),
        estimated_wait: Some(wait),
    } = t.state
    else {
        panic!("{t:?}")
    };
    assert_eq!(wait, secs(p.div_ceil(10) as i64));

    for second in 1..=150 {
        room.admit(&key(), &spec, at(second)).await.unwrap();
        ticket(&*room, &spec, last, at(second)).await;
    }
    let observed = room
        .stats(&key(), &spec, at(150))
        .await
        .unwrap()
        .admitted_last_minute;
    assert!((1..=20).contains(&observed), "observed {observed} a minute");
    let t = ticket(&*room, &spec, last, at(150)).await;
    let TicketState::Waiting {
        position: Some(p),
        estimated_wait: Some(wait),
    } = t.state
    else {
        panic!("{t:?}")
    };
    assert_eq!(wait, secs((p * 60).div_ceil(observed) as i64));
}

async fn concurrent_admits_take_each_slot_once(new_room: &NewRoom) {
    let room = new_room();
    let spec = patient(600);
    for buyer in users(500) {
        join(&*room, &spec, buyer, at(-60)).await;
    }
    // Many nodes or polls open the room at once: one seed.
    let opening = (0..16).map(|_| {
        let (room, spec) = (room.clone(), spec.clone());
        tokio::spawn(async move { room.stats(&key(), &spec, at(0)).await.unwrap() })
    });
    join_all(opening).await;
    let seed = room.seed(&key()).await.unwrap().unwrap();

    // Slots every 100 ms from the opening, the last 5 s of them still due at 5 s.
    for (second, due) in [(5, 51), (6, 10)] {
        let calls = (0..32).map(|_| {
            let (room, spec) = (room.clone(), spec.clone());
            tokio::spawn(async move { room.admit(&key(), &spec, at(second)).await.unwrap() })
        });
        let admitted: u32 = join_all(calls)
            .await
            .into_iter()
            .map(|a| a.unwrap().admitted)
            .sum();
        assert_eq!(admitted, due, "at {second} s");
    }
    let stats = room.stats(&key(), &spec, at(6)).await.unwrap();
    assert_eq!((stats.admitted, stats.active, stats.waiting), (61, 61, 439));
    assert_eq!(room.seed(&key()).await.unwrap(), Some(seed));
}

/// A case: a test body for any room, given a way to build the one under test.
pub type Case = fn(Box<NewRoom>) -> LocalBoxFuture<'static, ()>;

macro_rules! cases {
    ($($case:ident),* $(,)?) => {
        &[$((stringify!($case), |new_room| Box::pin(async move { $case(&new_room).await }))),*]
    };
}

/// Every case, run by `main.rs` against every backend. The cases are private, so one left out
/// of this table is dead code, which this test target denies.
pub const CASES: &[(&str, Case)] = cases![
    join_is_idempotent,
    not_open_before_the_prequeue_window,
    prequeue_shuffle_is_a_reproducible_permutation,
    late_joiners_follow_the_prequeue_in_arrival_order,
    admission_rate_holds_with_one_second_steps,
    admission_rate_holds_with_irregular_steps,
    no_burst_after_a_quiet_spell,
    max_active_holds_and_consume_frees_a_slot,
    passes_expire_after_the_session,
    idle_places_expire_then_rejoin_at_the_back,
    admission_skips_idle_places,
    stats_count_the_room,
    stats_keep_the_peak_the_median_wait_and_the_passes_used,
    estimated_wait_follows_the_observed_rate,
    concurrent_admits_take_each_slot_once,
];
