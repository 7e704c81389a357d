use std::time::Duration;

use async_trait::async_trait;
use rushline_domain::Won;

use super::provider::{Charge, ChargeRequest, PaymentProvider, ProviderError};

/// The built-in test provider: approves every card except those ending in 0002 (declined),
/// 0003 (insufficient funds) and 0004 (never answers, so the call times out).
pub struct Sandbox;

#[async_trait]
impl PaymentProvider for Sandbox {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    async fn confirm(&self, request: &ChargeRequest) -> Result<Charge, ProviderError> {
        let card = request.card_number.as_deref().unwrap_or_default();
        let refuse = |code: &str, message: &str| {
            Err(ProviderError::Declined {
                code: code.to_owned(),
                message: message.to_owned(),
            })
        };
        if card.ends_with("0002") {
            return refuse("card_declined", "the card was declined");
        }
        if card.ends_with("0003") {
            return refuse("insufficient_funds", "the card has insufficient funds");
        }
        if card.ends_with("0004") {
            // Longer than any configured timeout: the guard gives up first.
            tokio::time::sleep(Duration::from_secs(24 * 3600)).await;
        }
        Ok(Charge {
            payment_ref: request.payment_ref.clone(),
        })
    }

    async fn cancel(
        &self,
        _payment_ref: &str,
        _amount: Won,
        _reason: &str,
    ) -> Result<(), ProviderError> {
        Ok(())
    }
}
