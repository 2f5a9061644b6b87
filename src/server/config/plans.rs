//! `PlanConfig`: which Wix plans count as premium, and what the free plan may do.

use super::parse::Vars;
use super::ConfigError;

pub const DEFAULT_FREE_MONTHLY_SUBMISSIONS: u64 = 50;

#[derive(Debug, Clone)]
pub struct PlanConfig {
    /// `PREMIUM_PLAN_IDS`: the vendor product ids that count as premium; empty = any non-empty
    /// id.
    pub premium_plan_ids: Vec<String>,
    /// `FREE_MONTHLY_SUBMISSIONS`: new feedback items a free site may receive per calendar
    /// month (UTC).
    pub free_monthly_submissions: u32,
}

impl Default for PlanConfig {
    fn default() -> Self {
        Self {
            premium_plan_ids: Vec::new(),
            free_monthly_submissions: DEFAULT_FREE_MONTHLY_SUBMISSIONS as u32,
        }
    }
}

impl PlanConfig {
    pub(super) fn from_lookup(vars: Vars) -> Result<Self, ConfigError> {
        Ok(Self {
            premium_plan_ids: vars.list("PREMIUM_PLAN_IDS", |id| Ok(id.to_owned()))?,
            free_monthly_submissions: vars.whole(
                "FREE_MONTHLY_SUBMISSIONS",
                DEFAULT_FREE_MONTHLY_SUBMISSIONS,
                "a whole number of feedback items per month",
            )?,
        })
    }

    /// Whether the vendor product id `plan_id` (absent or empty = free) is a premium plan.
    pub fn is_premium(&self, plan_id: Option<&str>) -> bool {
        match plan_id.map(str::trim).filter(|id| !id.is_empty()) {
            None => false,
            Some(id) => {
                self.premium_plan_ids.is_empty() || self.premium_plan_ids.iter().any(|p| p == id)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn premium_ids() {
        let any = PlanConfig::default();
        assert!(!any.is_premium(None));
        assert!(!any.is_premium(Some(" ")));
        assert!(any.is_premium(Some("pro")));
        let listed = PlanConfig {
            premium_plan_ids: vec!["pro".into(), "biz".into()],
            ..PlanConfig::default()
        };
        assert!(listed.is_premium(Some("biz")));
        assert!(!listed.is_premium(Some("basic")));
    }
}
