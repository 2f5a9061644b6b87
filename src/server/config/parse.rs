//! Reading one variable: the generic helpers every sub-config uses.
//!
//! A separate file so that the sub-configs only say *which* variable means *what*, and the rules
//! shared by all of them live once: a value is trimmed, empty counts as unset, and a malformed
//! number is refused with a message naming what the variable counts ("expected whole seconds",
//! "expected a whole number of submission requests per minute"), never a generic one.

use super::{invalid, ConfigError};

/// What a whole-second variable counts, for its error message.
pub(super) const SECONDS: &str = "whole seconds";

/// The variable source given to [`super::Config::from_lookup`].
#[derive(Clone, Copy)]
pub(super) struct Vars<'a> {
    get: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> Vars<'a> {
    pub(super) fn new(get: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self { get }
    }

    /// The value exactly as set; `Some("")` when set but empty.
    pub(super) fn raw(&self, name: &str) -> Option<String> {
        (self.get)(name)
    }

    /// The value trimmed; unset and empty are both `None`.
    pub(super) fn get(&self, name: &str) -> Option<String> {
        self.raw(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// A whole number from `name`, or `default` when unset. `unit` says what it counts, for the
    /// error: `"expected {unit}, got \"…\""`. A value that does not fit `T` "is too large".
    pub(super) fn whole<T: TryFrom<u64>>(
        &self,
        name: &'static str,
        default: u64,
        unit: &str,
    ) -> Result<T, ConfigError> {
        fit(name, self.number(name, default, unit)?)
    }

    /// [`Self::whole`], refusing 0 ("must be at least 1").
    pub(super) fn positive<T: TryFrom<u64>>(
        &self,
        name: &'static str,
        default: u64,
        unit: &str,
    ) -> Result<T, ConfigError> {
        let n = self.number(name, default, unit)?;
        if n == 0 {
            return Err(invalid(name, "must be at least 1"));
        }
        fit(name, n)
    }

    /// [`Self::whole`] from 0 to `max`; a larger value is refused like a malformed one, with
    /// `unit` giving the range (e.g. "whole days from 0 to 36500").
    pub(super) fn whole_at_most<T: TryFrom<u64>>(
        &self,
        name: &'static str,
        default: u64,
        max: u64,
        unit: &str,
    ) -> Result<T, ConfigError> {
        match self.get(name) {
            None => fit(name, default),
            Some(v) => match v.parse::<u64>() {
                Ok(n) if n <= max => fit(name, n),
                _ => Err(expected(name, unit, &v)),
            },
        }
    }

    /// A comma-separated list from `name` (empty when unset); blank items are skipped, and
    /// `item` either parses one or says why not.
    pub(super) fn list<T>(
        &self,
        name: &'static str,
        item: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Vec<T>, ConfigError> {
        let Some(list) = self.get(name) else {
            return Ok(Vec::new());
        };
        list.split(',')
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .map(|i| item(i).map_err(|reason| invalid(name, reason)))
            .collect()
    }

    fn number(&self, name: &'static str, default: u64, unit: &str) -> Result<u64, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| expected(name, unit, &v)),
        }
    }
}

fn expected(name: &'static str, unit: &str, got: &str) -> ConfigError {
    invalid(name, format!("expected {unit}, got {got:?}"))
}

fn fit<T: TryFrom<u64>>(name: &'static str, n: u64) -> Result<T, ConfigError> {
    T::try_from(n).map_err(|_| invalid(name, "is too large"))
}
