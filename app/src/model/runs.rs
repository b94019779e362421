//! The run lifecycle as types (PRODUCT §8, §13): a run's status and phase, a delivery's status,
//! and what started a run. Every allowed transition is listed here, in one place; the store
//! writes a transition only as a conditional update on the expected current state, so code that
//! loses a race (another process abandoned or adopted the run) learns it and stops. The stored
//! and wire texts are the lowercase names; no other module spells them out.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A transition that the lifecycle does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionError {
    /// What kind of thing moved: `run` or `delivery`.
    pub what: &'static str,
    /// From this state…
    pub from: &'static str,
    /// …to this one.
    pub to: &'static str,
}

impl fmt::Display for TransitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} cannot go from {} to {}", self.what, self.from, self.to)
    }
}

impl std::error::Error for TransitionError {}

macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            /// Every value, in lifecycle order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and wire text.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the stored text.
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum! {
    /// Where a run stands: queued → running → succeeded | partial | failed | skipped.
    RunStatus {
        /// Created, waiting for a slot on its owner's executor.
        Queued = "queued",
        /// Rendering or delivering.
        Running = "running",
        /// Every destination delivered or accepted (or there were none).
        Succeeded = "succeeded",
        /// Some destinations were not delivered.
        Partial = "partial",
        /// The pipeline failed, every destination failed, or the run was abandoned or interrupted.
        Failed = "failed",
        /// The template's send condition did not hold: nothing was sent, the reason is recorded.
        Skipped = "skipped",
    }
}

impl RunStatus {
    /// Whether the run is over (and immutable).
    pub fn is_finished(self) -> bool {
        matches!(self, RunStatus::Succeeded | RunStatus::Partial | RunStatus::Failed | RunStatus::Skipped)
    }

    /// The states a run may move to from this one.
    pub fn next(self) -> &'static [RunStatus] {
        use RunStatus::*;
        match self {
            // A queued run may fail without starting: abandoned by a dead owner, or interrupted.
            Queued => &[Running, Failed],
            Running => &[Succeeded, Partial, Failed, Skipped],
            Succeeded | Partial | Failed | Skipped => &[],
        }
    }

    /// Checks a transition.
    pub fn to(self, next: RunStatus) -> Result<RunStatus, TransitionError> {
        if self.next().contains(&next) {
            Ok(next)
        } else {
            Err(TransitionError { what: "run", from: self.as_str(), to: next.as_str() })
        }
    }

    /// A run's status from its deliveries' final states: every attempted one delivered or
    /// accepted (or none attempted) → succeeded; none of them → failed; otherwise partial.
    /// `failed`, `unknown` and a `pending` left over all count as not delivered; `skipped`
    /// destinations (paused, deleted) count neither way.
    pub fn from_deliveries(deliveries: &[DeliveryStatus]) -> RunStatus {
        let attempted: Vec<_> = deliveries.iter().filter(|d| **d != DeliveryStatus::Skipped).collect();
        let reached = attempted.iter().filter(|d| d.reached()).count();
        if reached == attempted.len() {
            RunStatus::Succeeded
        } else if reached == 0 {
            RunStatus::Failed
        } else {
            RunStatus::Partial
        }
    }
}

text_enum! {
    /// What a running run is doing, for progress displays.
    RunPhase {
        /// Waiting to start.
        Queued = "queued",
        /// Querying data, narrating and rendering.
        Rendering = "rendering",
        /// Sending to destinations.
        Delivering = "delivering",
        /// Over.
        Finished = "finished",
    }
}

text_enum! {
    /// Where one destination's delivery of a run stands:
    /// pending → sending → delivered | accepted | failed | unknown; skipped from the start.
    DeliveryStatus {
        /// Recorded, not attempted yet.
        Pending = "pending",
        /// An attempt is in progress (or between retries).
        Sending = "sending",
        /// The destination took the message.
        Delivered = "delivered",
        /// The destination queued the message (Teams' HTTP 202).
        Accepted = "accepted",
        /// Every attempt failed, one failed permanently, or it was never sent.
        Failed = "failed",
        /// The process died while sending: the outcome cannot be known. Never retried
        /// automatically; counted as not delivered; re-sendable by a person.
        Unknown = "unknown",
        /// Not attempted: the destination is paused, deleted or missing.
        Skipped = "skipped",
    }
}

impl DeliveryStatus {
    /// Whether the delivery is over.
    pub fn is_final(self) -> bool {
        !matches!(self, DeliveryStatus::Pending | DeliveryStatus::Sending)
    }

    /// Whether the destination is known to have the message.
    pub fn reached(self) -> bool {
        matches!(self, DeliveryStatus::Delivered | DeliveryStatus::Accepted)
    }

    /// Whether a person may re-send it.
    pub fn resendable(self) -> bool {
        matches!(self, DeliveryStatus::Failed | DeliveryStatus::Unknown)
    }

    /// The states a delivery may move to from this one.
    pub fn next(self) -> &'static [DeliveryStatus] {
        use DeliveryStatus::*;
        match self {
            // A pending delivery that never started can only fail ("not sent").
            Pending => &[Sending, Failed],
            Sending => &[Delivered, Accepted, Failed, Unknown],
            Delivered | Accepted | Failed | Unknown | Skipped => &[],
        }
    }

    /// Checks a transition.
    pub fn to(self, next: DeliveryStatus) -> Result<DeliveryStatus, TransitionError> {
        if self.next().contains(&next) {
            Ok(next)
        } else {
            Err(TransitionError { what: "delivery", from: self.as_str(), to: next.as_str() })
        }
    }

    /// What a delivery left in this state becomes when its run ends without it: a send in
    /// flight has an unknown outcome, one never started was not sent. Final states stay.
    pub fn when_interrupted(self) -> DeliveryStatus {
        match self {
            DeliveryStatus::Sending => DeliveryStatus::Unknown,
            DeliveryStatus::Pending => DeliveryStatus::Failed,
            other => other,
        }
    }
}

text_enum! {
    /// What started a run.
    Trigger {
        /// A schedule's slot.
        Schedule = "schedule",
        /// A person's Run Now.
        RunNow = "run_now",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeliveryStatus as D;
    use RunStatus as R;

    #[test]
    fn texts_round_trip_and_match_serde() {
        for s in R::ALL {
            assert_eq!(R::parse(s.as_str()), Some(*s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for s in D::ALL {
            assert_eq!(D::parse(s.as_str()), Some(*s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(serde_json::to_value(Trigger::RunNow).unwrap(), "run_now");
        assert_eq!(R::parse("done"), None);
    }

    #[test]
    fn a_run_moves_forward_only_and_never_leaves_a_finished_state() {
        assert_eq!(R::Queued.to(R::Running), Ok(R::Running));
        assert_eq!(R::Queued.to(R::Failed), Ok(R::Failed));
        assert!(R::Queued.to(R::Succeeded).is_err(), "a run cannot succeed without running");
        for end in [R::Succeeded, R::Partial, R::Failed, R::Skipped] {
            assert_eq!(R::Running.to(end), Ok(end));
            assert!(end.is_finished());
            for any in R::ALL {
                assert!(end.to(*any).is_err(), "{end} → {any}");
            }
        }
        assert_eq!(R::Running.to(R::Queued).unwrap_err().to_string(), "a run cannot go from running to queued");
    }

    #[test]
    fn a_delivery_is_sending_before_any_outcome_and_final_states_are_final() {
        assert!(D::Pending.to(D::Delivered).is_err(), "no outcome without a send");
        assert!(D::Pending.to(D::Unknown).is_err(), "a delivery never started is known not sent");
        assert_eq!(D::Pending.to(D::Sending), Ok(D::Sending));
        for end in [D::Delivered, D::Accepted, D::Failed, D::Unknown] {
            assert_eq!(D::Sending.to(end), Ok(end));
            assert!(end.is_final() && end.next().is_empty());
        }
        assert!(D::Skipped.is_final());
        assert_eq!(D::Sending.when_interrupted(), D::Unknown);
        assert_eq!(D::Pending.when_interrupted(), D::Failed);
        assert_eq!(D::Delivered.when_interrupted(), D::Delivered);
    }

    #[test]
    fn run_status_counts_unknown_and_leftover_pending_as_not_delivered() {
        assert_eq!(R::from_deliveries(&[]), R::Succeeded);
        assert_eq!(R::from_deliveries(&[D::Delivered, D::Accepted]), R::Succeeded);
        assert_eq!(R::from_deliveries(&[D::Delivered, D::Failed]), R::Partial);
        assert_eq!(R::from_deliveries(&[D::Delivered, D::Unknown]), R::Partial);
        assert_eq!(R::from_deliveries(&[D::Pending]), R::Failed, "pending is not success");
        assert_eq!(R::from_deliveries(&[D::Unknown]), R::Failed);
        assert_eq!(R::from_deliveries(&[D::Skipped, D::Delivered]), R::Succeeded);
        assert_eq!(R::from_deliveries(&[D::Skipped, D::Failed]), R::Failed);
        assert_eq!(R::from_deliveries(&[D::Skipped]), R::Succeeded);
    }

    #[test]
    fn only_failed_and_unknown_deliveries_can_be_resent() {
        let resendable: Vec<_> = D::ALL.iter().filter(|d| d.resendable()).collect();
        assert_eq!(resendable, [&D::Failed, &D::Unknown]);
    }
}
