//! `Instant`s as ordered `u64` stamps: the encoding of the lifecycle slot's deadline word, and of the
//! timer structures' deadlines in the async layer.

use std::time::{Duration, Instant};

/// Encodes `Instant`s as `u64` stamps whose integer order is time order: signed nanoseconds from an
/// origin, with the sign bit flipped.
///
/// A stamp fits an atomic word (the lifecycle slot's deadline is one `fetch_min`) and compares in one
/// instruction (the timer heaps sort by it). The encoding is exact within ±292 years of the origin and
/// saturates beyond: every `Instant` encodes, and [`decode`](InstantScale::decode) gives back the
/// `Instant` encoded, or, for one more than 292 years from the origin, the `Instant` 292 years from it.
/// The origin is a reference point only: nothing here reads the clock except [`InstantScale::new`].
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use ctrlchan_sync::InstantScale;
///
/// let scale = InstantScale::new();
/// let soon = scale.origin() + Duration::from_millis(5);
/// let later = soon + Duration::from_nanos(1);
/// assert!(scale.encode(soon) < scale.encode(later));
/// assert_eq!(scale.decode(scale.encode(later)), later);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstantScale {
    origin: Instant,
}

impl InstantScale {
    /// The stamp of the origin itself.
    const ORIGIN_STAMP: u64 = 1 << 63;

    /// A scale around the current instant (one clock read).
    pub fn new() -> Self {
        Self::with_origin(Instant::now())
    }

    /// A scale around `origin`.
    pub const fn with_origin(origin: Instant) -> Self {
        Self { origin }
    }

    /// The instant whose stamp is `2^63`.
    pub const fn origin(&self) -> Instant {
        self.origin
    }

    /// The stamp of `at`: order-preserving, exact within ±292 years of the origin, saturating beyond.
    #[inline]
    pub fn encode(&self, at: Instant) -> u64 {
        let signed = match at.checked_duration_since(self.origin) {
            Some(after) => i64::try_from(after.as_nanos()).unwrap_or(i64::MAX),
            None => {
                i64::try_from(self.origin.duration_since(at).as_nanos()).map_or(i64::MIN, |n| -n)
            }
        };
        // Flipping the sign bit maps i64 order onto u64 order.
        (signed as u64) ^ Self::ORIGIN_STAMP
    }

    /// The instant of `stamp`: the one encoded, if it was within range.
    #[inline]
    pub fn decode(&self, stamp: u64) -> Instant {
        let signed = (stamp ^ Self::ORIGIN_STAMP) as i64;
        let magnitude = Duration::from_nanos(signed.unsigned_abs());
        // A stamp made by `encode` from a representable `Instant` names a representable one (it lies
        // between the origin and that instant), so the fallbacks are never taken for such stamps.
        if signed >= 0 {
            self.origin.checked_add(magnitude).unwrap_or(self.origin)
        } else {
            self.origin.checked_sub(magnitude).unwrap_or(self.origin)
        }
    }
}

impl Default for InstantScale {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_round_trip_in_order_on_both_sides_of_the_origin() {
        let scale = InstantScale::new();
        let origin = scale.origin();
        assert_eq!(scale.encode(origin), InstantScale::ORIGIN_STAMP);
        for offset in [0u64, 1, 999, 1_000_000_007, 86_400 * 1_000_000_000] {
            let later = origin + Duration::from_nanos(offset);
            assert_eq!(scale.decode(scale.encode(later)), later);
            if let Some(earlier) = origin.checked_sub(Duration::from_nanos(offset)) {
                assert_eq!(scale.decode(scale.encode(earlier)), earlier);
                assert!(scale.encode(earlier) <= scale.encode(later));
            }
        }
    }

    #[test]
    fn instants_out_of_range_saturate_in_order() {
        let scale = InstantScale::new();
        let far = Duration::from_secs(300 * 365 * 86_400);
        if let Some(beyond) = scale.origin().checked_add(far) {
            assert_eq!(scale.encode(beyond), u64::MAX);
            assert!(scale.encode(scale.origin() + Duration::from_secs(1)) < u64::MAX);
        }
        if let Some(before) = scale.origin().checked_sub(far) {
            assert_eq!(scale.encode(before), 0);
        }
    }
}
