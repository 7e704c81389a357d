//! What becomes of a tester after selection: cancelling before the close (the slot goes back to
//! the pool), a review gone overdue (a job) and the bar that follows, and the mail each change
//! of an application's status sends.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rushline_domain::ApplicationStatus;
use rushline_gate::PoolKey;
use rushline_jobs::{Job, Registry, new_job};
use rushline_mail::Mail;
use rushline_store::{
    APPLICATION_STATUS_CHANGED, ApplicationTransition, DbError, NewJob, TrialApplication,
    trial_pool_key,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::mail::SendMail;
use crate::{App, AppError, ErrorCode};

/// Applications turned overdue per run of the job; the next run takes the rest.
const BATCH: u32 = 500;

/// Tells a tester that their application became `status`: enqueued in the transaction of the
/// change, it looks the tester and the trial up and mails them through `send_mail`.
#[derive(Debug, Serialize, Deserialize)]
pub struct TrialMail {
    pub application_id: Uuid,
    pub status: ApplicationStatus,
}

impl Job for TrialMail {
    const KIND: &'static str = "trial_mail";
}

/// The job that mails the tester of `application_id` about its new `status`: every change
/// (selected, cancelled, overdue) enqueues it in its own transaction, once per status.
pub(crate) fn status_mail(
    application_id: Uuid,
    status: ApplicationStatus,
    at: DateTime<Utc>,
) -> NewJob {
    let mut job = new_job(
        &TrialMail {
            application_id,
            status,
        },
        at,
    );
    job.dedupe_key = Some(format!("trial_mail:{application_id}:{status}"));
    job
}

/// The message for a tester whose application to `title` became `status`.
fn mail_for(application: &TrialApplication, title: &str) -> Mail {
    let (subject, text) = match application.status {
        ApplicationStatus::Selected => (
            format!("You are selected for the trial \"{title}\""),
            format!(
                "You have a slot in \"{title}\". Please post your review by {}.",
                application.review_due_at.to_rfc3339()
            ),
        ),
        ApplicationStatus::Cancelled => (
            format!("Your slot in \"{title}\" is cancelled"),
            format!("You gave back your slot in \"{title}\"; someone else may take it now."),
        ),
        ApplicationStatus::ReviewOverdue => (
            format!("Your review of \"{title}\" is overdue"),
            format!(
                "Your review of \"{title}\" was due by {}. Until you are past the bar, you \
                 cannot be selected for another trial.",
                application.review_due_at.to_rfc3339()
            ),
        ),
        ApplicationStatus::NotSelected => (
            format!("You were not selected for \"{title}\""),
            format!("Every slot of \"{title}\" went to other applicants this time."),
        ),
        ApplicationStatus::ReviewSubmitted => (
            format!("Thank you for your review of \"{title}\""),
            format!("Your review of \"{title}\" is in."),
        ),
    };
    Mail {
        to: application.buyer_email.clone(),
        subject,
        text,
    }
}

pub(crate) fn register_jobs(registry: &mut Registry, app: &Arc<App>) {
    let mail = app.clone();
    registry.handle(move |job: TrialMail| {
        let app = mail.clone();
        async move {
            let application = app.store.application(job.application_id).await?;
            let trial = app.store.trial(application.trial_id).await?;
            // The status the change set, whatever it is by now.
            let application = TrialApplication {
                status: job.status,
                ..application
            };
            let mut send = new_job(
                &SendMail(mail_for(&application, &trial.title)),
                app.clock.now(),
            );
            send.dedupe_key = Some(format!(
                "send_mail:trial:{}:{}",
                job.application_id, job.status
            ));
            app.store.enqueue(&send, app.clock.now()).await?;
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
        jobs: vec![status_mail(id, ApplicationStatus::Cancelled, now)],
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
            let at = application.review_due_at;
            let change = ApplicationTransition {
                id: application.id,
                from: ApplicationStatus::Selected,
                to: ApplicationStatus::ReviewOverdue,
                at,
                jobs: vec![status_mail(
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
