//! Mail leaves from the job queue, never from a request: a slow or failing SMTP server delays a
//! message and retries it, but never holds up a response.

use rushline_jobs::{Job, Registry};
use rushline_mail::Mail;
use serde::{Deserialize, Serialize};

use crate::App;

/// Delivers one message through the configured mailer.
#[derive(Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SendMail(pub Mail);

impl Job for SendMail {
    const KIND: &'static str = "send_mail";
    // With the worker's doubling backoff from 1 s, eight attempts span about two minutes: enough
    // to ride out a relay restart, and still inside the five minutes a sign-up code lives.
    const MAX_ATTEMPTS: i32 = 8;

    /// Only the recipient: a message may carry a code, which must not stay in the job table
    /// once it is delivered or given up on.
    fn kept(self) -> Self {
        SendMail(Mail {
            to: self.0.to,
            subject: REMOVED.to_owned(),
            text: REMOVED.to_owned(),
            message_id: self.0.message_id,
        })
    }
}

const REMOVED: &str = "(removed once delivered or given up)";

pub(crate) fn register(registry: &mut Registry, app: &App) {
    let mailer = app.mailer.clone();
    registry.handle(move |job: SendMail| {
        let mailer = mailer.clone();
        async move { Ok(mailer.send(&job.0).await?) }
    });
}
