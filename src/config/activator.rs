//! The `activator = { … }` table any autoscaling policy may carry (basic types and manifest
//! families alike): requests arriving with no ready replica wait in it instead of failing.

use super::error::KeyError;
use super::raw::RawPolicy;
use super::source::KeyPath;
use crate::policy::ActivatorBuffer;
use crate::time::SECOND;

type R<T> = Result<T, KeyError>;

/// The `activator` table of a policy, if any: requests arriving with no ready replica wait in
/// it (at most `capacity`, default 1000, each at most `max_wait`, default 60 s) instead of
/// failing as `no_replica`.
pub(super) fn activator(path: &KeyPath, p: &RawPolicy) -> R<Option<ActivatorBuffer>> {
    let Some(a) = &p.activator else { return Ok(None) };
    let at = path.key("activator");
    let capacity = a.capacity.unwrap_or(1000);
    if capacity == 0 {
        return Err(KeyError::new(at.key("capacity"), "found 0, expected at least 1 request"));
    }
    let max_wait = a.max_wait.map_or(60 * SECOND, |d| d.time());
    if max_wait == 0 {
        return Err(KeyError::new(at.key("max_wait"), "found a zero duration, expected a positive duration"));
    }
    Ok(Some(ActivatorBuffer { capacity, max_wait }))
}
