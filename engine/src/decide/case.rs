//! [`CaseInput`], one decision request as the shared case files (`tests/cases/`) and the runtimes'
//! test hooks state it, replayed and decided the same way in every runtime.

use crate::base::error::FormatError;
use crate::base::json;
use crate::base::time;
use crate::data::profile::{Event, LiveProfile, ProfileSnapshot};
use crate::decide::{Bundle, Context, Decision, Request};

/// One decision request as the shared case files and the runtimes' test hooks state it: an optional
/// snapshot, the session's events, the time, and what the page asks for.
#[derive(Debug, Clone)]
pub struct CaseInput {
    pub profile: Option<ProfileSnapshot>,
    pub events: Vec<Event>,
    pub now: time::Seconds,
    pub request: Request,
}

impl CaseInput {
    pub fn from_json(text: &str) -> Result<CaseInput, FormatError> {
        json::read("case", text, |at| {
            let o = at.obj(&["profile", "events", "now", "request"])?;
            Ok(CaseInput {
                profile: o.opt("profile", ProfileSnapshot::read)?,
                events: o.or("events", Vec::new, |x| x.items(Event::read))?,
                now: o.req_time("now")?,
                request: o.or("request", Request::default, Request::read)?,
            })
        })
    }

    /// The visitor: the snapshot with the events replayed on it.
    pub fn live_profile(&self, bundle: &Bundle) -> LiveProfile {
        let snapshot = self.profile.clone().unwrap_or_else(ProfileSnapshot::anonymous);
        let mut profile = LiveProfile::new(snapshot);
        for e in &self.events {
            profile.apply_with_catalog(e, self.now, &bundle.catalog);
        }
        profile
    }

    /// Replays the events on the snapshot and decides.
    pub fn decide(&self, bundle: &Bundle) -> Decision {
        let profile = self.live_profile(bundle);
        Context { bundle, profile: &profile, page: &self.request.page, now: self.now }.decide(&self.request)
    }
}
