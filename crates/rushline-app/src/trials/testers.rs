//! What becomes of a tester after selection: cancelling before the close (the slot goes back to
//! the pool), a review gone overdue (a job) and the bar that follows, and the mail each change
//! of an application's status notifies.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rushline_domain::ApplicationStatus;
use rushline_domain::notification::Event;
use rushline_gate::PoolKey;
use rushline_jobs::{Job, Registry, new_job};
use rushline_store::{
    APPLICATION_STATUS_CHANGED, ApplicationTransition, Audience, DbError, NewJob, TrialApplication,
    trial_pool_key,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::notifications::{Notify, publish, shown};
use crate::{App, AppError, ErrorCode};

/// Applications turned overdue per run of the job; the next run takes the rest.
const BATCH: u32 = 500;

/// Tells a tester that their application became `status`: enqueued in the transaction of the
/// change, it looks the tester and the trial up and notifies the tester.
#[derive(Debug, Serialize, Deserialize)]
pub struct TrialNotice {
    pub application_id: Uuid,
    pub status: ApplicationStatus,
}

impl Job for TrialNotice {
    const KIND: &'static str = "trial_notice";
}

/// The job that notifies the tester of `application_id` of its new `status`: every change
/// (selected, cancelled, overdue, reviewed) enqueues it in its own transaction, once per status.
pub(crate) fn status_notice(
    application_id: Uuid,
    status: ApplicationStatus,
    at: DateTime<Utc>,
) -> NewJob {
    let mut job = new_job(
        &TrialNotice {
            application_id,
            status,
        },
        at,
    );
    job.dedupe_key = Some(format!("trial_notice:{application_id}:{status}"));
    job
}

/// How long before a review is due its tester is reminded.
const REVIEW_REMINDER: TimeDelta = TimeDelta::days(1);

/// Reminds a selected tester that their review is due soon, a day before; nothing once they have
/// reviewed (or are no longer selected).
#[derive(Debug, Serialize, Deserialize)]
pub struct ReviewReminder {
    pub application_id: Uuid,
}

impl Job for ReviewReminder {
    const KIND: &'static str = "review_reminder";
}

/// The reminder of the tester of `application_id`, whose review is due at `due`: enqueued with
/// the selection, due a day before (at once when less is left).
pub(crate) fn review_reminder(
    application_id: Uuid,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> NewJob {
    let mut job = new_job(
        &ReviewReminder { application_id },
        (due - REVIEW_REMINDER).max(now),
    );
    job.dedupe_key = Some(format!("review_reminder:{application_id}"));
    job
}

/// What the tester of `application` to `title` hears of its `status`.
fn notice_for(application: &TrialApplication, status: ApplicationStatus, title: &str) -> Notify {
    let due = application.review_due_at.map(shown).unwrap_or_default();
    let (event, params): (Event, Vec<(&str, String)>) = match status {
        ApplicationStatus::Selected => (Event::TrialSelected, vec![("due", due)]),
        ApplicationStatus::Cancelled => (Event::TrialCancelled, vec![]),
        ApplicationStatus::ReviewOverdue => (Event::ReviewOverdue, vec![("due", due)]),
        ApplicationStatus::NotSelected => (Event::TrialNotSelected, vec![]),
        ApplicationStatus::ReviewSubmitted => (Event::ReviewReceived, vec![]),
    };
    Notify {
        event,
        audience: Audience::User {
            id: application.buyer_id,
        },
        subject: application.id.to_string(),
        params: params
            .into_iter()
            .chain([("title", title.to_owned())])
            .map(|(name, value)| (name.to_owned(), value))
            .collect(),
    }
}

pub(crate) fn register_jobs(registry: &mut Registry, app: &Arc<App>) {
    let notices = app.clone();
    registry.handle(move |job: TrialNotice| {
        let app = notices.clone();
        async move {
            let application = app.store.application(job.application_id).await?;
            let trial = app.store.trial(application.trial_id).await?;
            // The status the change set, whatever it is by now.
            publish(&app, notice_for(&application, job.status, &trial.title)).await?;
            Ok(())
        }
    });
    let reminders = app.clone();
    registry.handle(move |job: ReviewReminder| {
        let app = reminders.clone();
        async move {
            let application = app.store.application(job.application_id).await?;
            if application.status == ApplicationStatus::Selected {
                let trial = app.store.trial(application.trial_id).await?;
                let mut notify =
                    notice_for(&application, ApplicationStatus::Selected, &trial.title);
                notify.event = Event::ReviewDueSoon;
                publish(&app, notify).await?;
            }
            Ok(())
        }
    });
    let overdue = app.clone();
    registry.every("mark_overdue_reviews", Duration::from_secs(60), move |_| {
        let app = overdue.clone();
        async move {
            mark_overdue(&app, app.clock.now())
                .await
                .map(drop)
                .map_err(|e| anyhow::anyhow!("marking overdue reviews failed: {e:?}"))
        }
    });
}

/// Gives back `buyer`'s slot of application `id` before its trial closes: cancelled in the
/// database (the claim and the slot released) and then in the gate, where a later applicant
/// takes it.
pub async fn cancel(app: &App, buyer: Uuid, id: Uuid) -> Result<TrialApplication, AppError> {
    let application = match app.store.application(id).await {
        Ok(application) if application.buyer_id == buyer => application,
        Ok(_) | Err(DbError::NotFound) => return Err(AppError::not_found()),
        Err(e) => return Err(e.into()),
    };
    let trial = app.store.trial(application.trial_id).await?;
    let now = app.clock.now();
    if now >= trial.gives_back_until() {
        return Err(AppError::new(
            ErrorCode::Closed,
            "the trial has closed: its slots can no longer be given back",
        ));
    }
    let change = ApplicationTransition {
        id,
        from: ApplicationStatus::Selected,
        to: ApplicationStatus::Cancelled,
        at: now,
        jobs: vec![status_notice(id, ApplicationStatus::Cancelled, now)],
    };
    let cancelled = transition(app, &change).await?;
    // The claim's id is the application's. Should the gate be out of reach, reconciliation
    // gives the slot back.
    let pool = PoolKey(trial_pool_key(trial.id));
    if let Err(e) = app.claims.gate.release(&pool, id).await {
        tracing::warn!(application = %id, error = %e, "could not release a trial slot in the gate; reconciliation will");
    }
    Ok(cancelled)
}

/// Marks every selected application whose review was due by `now` overdue, dated when it was
/// due. Safe on several nodes at once: each change applies only from `selected`.
pub async fn mark_overdue(app: &App, now: DateTime<Utc>) -> Result<usize, AppError> {
    let mut marked = 0;
    loop {
        let due = app.store.applications_due(now, BATCH).await?;
        let found = due.len();
        for application in due {
            let at = application.review_due_at.unwrap_or(now);
            let change = ApplicationTransition {
                id: application.id,
                from: ApplicationStatus::Selected,
                to: ApplicationStatus::ReviewOverdue,
                at,
                jobs: vec![status_notice(
                    application.id,
                    ApplicationStatus::ReviewOverdue,
                    at,
                )],
            };
            match transition(app, &change).await {
                Ok(_) => marked += 1,
                Err(e) if e.code() == ErrorCode::InvalidTransition => {}
                Err(e) => return Err(e),
            }
        }
        if found < BATCH as usize {
            return Ok(marked);
        }
    }
}

async fn transition(
    app: &App,
    change: &ApplicationTransition,
) -> Result<TrialApplication, AppError> {
    app.store
        .transition_application(change)
        .await
        .map_err(|e| match e {
            DbError::Conflict { constraint } if constraint == APPLICATION_STATUS_CHANGED => {
                AppError::new(
                    ErrorCode::InvalidTransition,
                    format!("the application cannot become {} now", change.to),
                )
            }
            other => other.into(),
        })
}

/// The trial is paused: refused before the gate, or by the group commit when the pause came
/// while the application was in flight.
pub(crate) fn paused() -> AppError {
    AppError::new(
        ErrorCode::Paused,
        "the trial is paused by its seller; try again when it resumes",
    )
}

/// The applicant's review of another trial went overdue within the bar.
pub(crate) fn trial_barred(app: &App) -> AppError {
    AppError::new(
        ErrorCode::TrialBarred,
        format!(
            "a review of yours went overdue: no trial for {} days after its due date",
            app.trial_settings.overdue_bar.num_days()
        ),
    )
}
