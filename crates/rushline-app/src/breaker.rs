//! A circuit breaker in front of a third party (a payment provider, Slack): it stops calling one
//! that keeps failing, and lets one trial call find out when it is back.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};
use rushline_domain::Clock;

/// When a breaker opens and for how long.
#[derive(Debug, Clone)]
pub struct BreakerSettings {
    /// How many of the latest calls the breaker judges.
    pub window: usize,
    /// The breaker opens when at least this share of a full window failed.
    pub failure_ratio: f64,
    /// How long it stays open before letting one trial call through.
    pub open_for: TimeDelta,
}

/// A breaker over the latest `window` calls, timed by the application clock so that
/// tests can move through its states. Only timeouts and 5xx answers count as failures.
///
/// Closed: calls go through and are recorded. When at least `failure_ratio` of a full window
/// failed, it opens: calls are refused at once for `open_for`. Then it half-opens: one trial
/// call goes through; its success closes the breaker, its failure opens it again. A trial that
/// never finishes (its caller went away) counts as failed, or the breaker would wait for it
/// forever.
pub struct Breaker {
    dependency: &'static str,
    settings: BreakerSettings,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
}

#[derive(Debug)]
enum State {
    /// The latest outcomes, `true` for a failure.
    Closed {
        outcomes: VecDeque<bool>,
    },
    Open {
        until: DateTime<Utc>,
    },
    /// The trial call is out; everyone else waits for its outcome.
    HalfOpen,
}

impl Breaker {
    pub fn new(dependency: &'static str, settings: BreakerSettings, clock: Arc<dyn Clock>) -> Self {
        Self {
            dependency,
            settings,
            clock,
            state: Mutex::new(State::Closed {
                outcomes: VecDeque::new(),
            }),
        }
    }

    /// Leave for a call to go out now, if any. Past `open_for`, the first caller becomes the
    /// trial.
    pub fn allow(&self) -> Option<Permit<'_>> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let trial = match *state {
            State::Closed { .. } => false,
            State::Open { until } if self.clock.now() >= until => {
                *state = State::HalfOpen;
                self.publish(&state);
                true
            }
            State::Open { .. } | State::HalfOpen => return None,
        };
        Some(Permit {
            breaker: self,
            trial,
        })
    }

    pub fn is_open(&self) -> bool {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        matches!(*state, State::Open { until } if self.clock.now() < until)
    }

    fn record(&self, failed: bool) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let open = State::Open {
            until: self.clock.now() + self.settings.open_for,
        };
        match &mut *state {
            State::Closed { outcomes } => {
                outcomes.push_back(failed);
                if outcomes.len() > self.settings.window {
                    outcomes.pop_front();
                }
                let failures = outcomes.iter().filter(|&&f| f).count();
                if outcomes.len() == self.settings.window
                    && failures as f64 >= self.settings.failure_ratio * self.settings.window as f64
                {
                    tracing::warn!(
                        dependency = self.dependency,
                        failures,
                        "dependency failing; breaker opens"
                    );
                    *state = open;
                }
            }
            State::HalfOpen if failed => *state = open,
            State::HalfOpen => {
                tracing::info!(
                    dependency = self.dependency,
                    "dependency recovered; breaker closes"
                );
                *state = State::Closed {
                    outcomes: VecDeque::new(),
                };
            }
            // A call that started before the breaker opened.
            State::Open { .. } => {}
        }
        self.publish(&state);
    }

    fn publish(&self, state: &State) {
        let open = matches!(state, State::Open { .. });
        metrics::gauge!("rushline_breaker_open", "dependency" => self.dependency)
            .set(f64::from(u8::from(open)));
    }
}

/// One call's leave to go out; [`Permit::record`] reports how it went.
pub struct Permit<'a> {
    breaker: &'a Breaker,
    /// The half-open trial, not yet recorded.
    trial: bool,
}

impl Permit<'_> {
    pub fn record(mut self, failed: bool) {
        self.trial = false;
        self.breaker.record(failed);
    }
}

impl Drop for Permit<'_> {
    /// A trial dropped unrecorded failed: its caller gave up mid-call.
    fn drop(&mut self) {
        if self.trial {
            self.breaker.record(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use rushline_domain::ManualClock;

    use super::*;

    fn breaker(clock: &ManualClock) -> Breaker {
        let settings = BreakerSettings {
            window: 20,
            failure_ratio: 0.5,
            open_for: TimeDelta::seconds(30),
        };
        Breaker::new("test", settings, Arc::new(clock.clone()))
    }

    #[test]
    fn opens_at_half_failures_of_a_full_window_and_half_opens_after_the_pause() {
        let clock = ManualClock::starting_now();
        let breaker = breaker(&clock);
        for i in 0..19 {
            breaker.allow().unwrap().record(i % 2 == 1);
        }
        let call = breaker.allow().expect("19 calls are not a full window");
        call.record(false);
        let call = breaker.allow().expect("9 of the last 20 failed");
        call.record(true);
        assert!(breaker.allow().is_none(), "10 of the last 20 failed: half");
        assert!(breaker.is_open());

        clock.advance(TimeDelta::seconds(29));
        assert!(breaker.allow().is_none());
        clock.advance(TimeDelta::seconds(1));
        let trial = breaker.allow().expect("the trial call");
        assert!(breaker.allow().is_none(), "only one trial at a time");
        trial.record(true);
        assert!(breaker.allow().is_none(), "a failed trial opens it again");

        clock.advance(TimeDelta::seconds(30));
        breaker.allow().unwrap().record(false);
        assert!(
            breaker.allow().is_some() && breaker.allow().is_some(),
            "a good trial closes it"
        );
    }

    #[test]
    fn a_trial_dropped_mid_call_opens_it_again_and_a_later_trial_decides() {
        let clock = ManualClock::starting_now();
        let breaker = breaker(&clock);
        for _ in 0..20 {
            breaker.allow().unwrap().record(true);
        }
        clock.advance(TimeDelta::seconds(30));
        let trial = breaker.allow().expect("the trial call");
        drop(trial);
        assert!(breaker.is_open(), "an unfinished trial failed");

        clock.advance(TimeDelta::seconds(30));
        breaker.allow().expect("another trial").record(false);
        assert!(breaker.allow().is_some(), "closed again");
    }

    #[test]
    fn calls_dropped_while_closed_count_for_nothing() {
        let clock = ManualClock::starting_now();
        let breaker = breaker(&clock);
        for _ in 0..40 {
            drop(breaker.allow().unwrap());
        }
        assert!(!breaker.is_open());
    }

    #[test]
    fn successes_keep_it_closed() {
        let clock = ManualClock::starting_now();
        let breaker = breaker(&clock);
        for i in 0..100 {
            breaker.allow().unwrap().record(i % 3 == 0);
        }
        assert!(breaker.allow().is_some());
    }
}
