//! `Instant`s as ordered `u64` stamps: the encoding of the lifecycle slot's deadline word, and of the
//! timer structures' deadlines in the async layer.

use core::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

/// Encodes `Instant`s as `u64` stamps whose integer order is time order: signed nanoseconds from an
/// origin, with the sign bit flipped.
///
/// A stamp fits an atomic word (the lifecycle slot's deadline is one `fetch_min`) and compares in one
/// instruction (the timer heaps sort by it). The encoding is exact within ±292 years of the origin:
/// [`try_encode`](InstantScale::try_encode) gives the stamp of an instant in that range and `None`
/// beyond it, so that a structure that stores stamps can refuse an instant it could not give back
/// exactly. [`encode`](InstantScale::encode) saturates instead (the first and last stamps stand for
/// every instant before and after the range), which is what a comparison with "now" needs: every
/// stamp of the range still compares correctly with a saturated one.
/// The origin is a reference point only: nothing here reads the clock except [`InstantScale::new`].
///
/// # How an `Instant` is read
///
/// `Instant` keeps its representation private, and its arithmetic (`checked_duration_since`) is not
/// inlined across crates: some fifty instructions and a call per stamp, which is most of the work of a
/// timer reschedule. An `Instant` does show its fields to a [`Hasher`], though: on every platform whose
/// clock is a count of seconds and nanoseconds (Unix, Windows) its derived `Hash` writes a 64-bit count
/// of seconds, then the nanoseconds as a `u32`. The scale reads an `Instant` that way, which inlines to
/// a few moves. That reading is not a documented promise, so it is checked when the scale is built: the
/// origin, and instants from a nanosecond to a year on both sides of it, must read as exactly the time
/// between them. When any of that fails (another platform, a future standard library), the scale
/// computes every stamp with `Instant` arithmetic instead: the same stamps, more slowly.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use ctrlchan_sync::__private::InstantScale;
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
    /// The origin as its `Hash` impl writes it, when that reading was checked to count time; `None`:
    /// stamps come from `Instant` arithmetic.
    fields: Option<Fields>,
}

impl InstantScale {
    /// The stamp of the origin itself.
    const ORIGIN_STAMP: u64 = 1 << 63;

    /// A scale around the current instant (one clock read).
    pub fn new() -> Self {
        Self::with_origin(Instant::now())
    }

    /// A scale around `origin`.
    pub fn with_origin(origin: Instant) -> Self {
        Self {
            origin,
            fields: Fields::checked(origin),
        }
    }

    /// A scale around `origin` that computes every stamp with `Instant` arithmetic.
    #[cfg(test)]
    fn arithmetic(origin: Instant) -> Self {
        Self { origin, fields: None }
    }

    /// The instant whose stamp is `2^63`.
    pub const fn origin(&self) -> Instant {
        self.origin
    }

    /// The stamp of `at` if it lies within the exact range (±292 years of the origin, strictly inside
    /// the first and last stamps), else `None`. [`decode`](InstantScale::decode) gives `at` back.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use ctrlchan_sync::__private::InstantScale;
    ///
    /// let scale = InstantScale::new();
    /// assert!(scale.try_encode(scale.origin() + Duration::from_secs(3600)).is_some());
    /// let far = Duration::from_secs(300 * 365 * 86_400); // beyond 292 years
    /// if let Some(beyond) = scale.origin().checked_add(far) {
    ///     assert_eq!(scale.try_encode(beyond), None);
    /// }
    /// ```
    #[inline]
    pub fn try_encode(&self, at: Instant) -> Option<u64> {
        let stamp = self.encode(at);
        (stamp != 0 && stamp != u64::MAX).then_some(stamp)
    }

    /// The stamp of `at`: order-preserving, exact within ±292 years of the origin, saturating beyond
    /// (every instant after the range encodes as `u64::MAX`, every one before it as 0).
    #[inline]
    pub fn encode(&self, at: Instant) -> u64 {
        // Beyond ±292 years the reading overflows; the arithmetic then saturates.
        let signed = match self.fields.and_then(|origin| Fields::of(at)?.nanos_since(origin)) {
            Some(nanos) => nanos,
            None => self.arithmetic_nanos(at),
        };
        // Flipping the sign bit maps i64 order onto u64 order.
        (signed as u64) ^ Self::ORIGIN_STAMP
    }

    /// The signed nanoseconds from the origin to `at`, saturated, by `Instant` arithmetic.
    #[cold]
    fn arithmetic_nanos(&self, at: Instant) -> i64 {
        match at.checked_duration_since(self.origin) {
            Some(after) => i64::try_from(after.as_nanos()).unwrap_or(i64::MAX),
            None => i64::try_from(self.origin.duration_since(at).as_nanos()).map_or(i64::MIN, |n| -n),
        }
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

/// An `Instant` as its `Hash` impl writes it: a count of seconds, then nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fields {
    secs: i64,
    nanos: u32,
}

impl Fields {
    const NANOS_PER_SEC: i64 = 1_000_000_000;

    /// Offsets at which [`checked`](Self::checked) compares the reading with the time between two
    /// instants: within a second, across whole seconds, and far away.
    const PROBES: [Duration; 7] = [
        Duration::from_nanos(1),
        Duration::from_nanos(999_999_999),
        Duration::from_secs(1),
        Duration::from_nanos(1_000_000_001),
        Duration::from_millis(61_500),
        Duration::from_nanos(86_399_999_999_999),
        Duration::new(365 * 86_400, 7),
    ];

    /// `at` as its `Hash` impl writes it, if that is one 64-bit integer and then one `u32`.
    #[inline(always)]
    fn of(at: Instant) -> Option<Self> {
        let mut reader = FieldReader::default();
        at.hash(&mut reader);
        match reader {
            FieldReader {
                secs: Some(secs),
                nanos: Some(nanos),
                unexpected: false,
            } => Some(Self { secs, nanos }),
            _ => None,
        }
    }

    /// The nanoseconds from `origin` to `self`, if they fit an `i64` (±292 years).
    #[inline(always)]
    fn nanos_since(self, origin: Self) -> Option<i64> {
        let secs = self.secs.checked_sub(origin.secs)?;
        let nanos = i64::from(self.nanos) - i64::from(origin.nanos);
        secs.checked_mul(Self::NANOS_PER_SEC)?.checked_add(nanos)
    }

    /// The reading of `origin`, if every probe around it reads as the time between them.
    fn checked(origin: Instant) -> Option<Self> {
        let base = Self::of(origin)?;
        if i64::from(base.nanos) >= Self::NANOS_PER_SEC {
            return None;
        }
        let reads_as = |at: Option<Instant>, nanos: i64| match at {
            // An instant the platform cannot represent proves nothing either way.
            None => true,
            Some(at) => Self::of(at).and_then(|at| at.nanos_since(base)) == Some(nanos),
        };
        Self::PROBES
            .iter()
            .all(|&offset| {
                // Every probe is within a year: its nanoseconds fit.
                let nanos = offset.as_nanos() as i64;
                reads_as(origin.checked_add(offset), nanos)
                    && reads_as(origin.checked_sub(offset), -nanos)
            })
            .then_some(base)
    }
}

/// A [`Hasher`] that keeps what an `Instant` writes instead of hashing it: the first 64-bit integer as
/// the seconds, then a `u32` as the nanoseconds. Any other write marks the reading `unexpected`.
#[derive(Default)]
struct FieldReader {
    secs: Option<i64>,
    nanos: Option<u32>,
    unexpected: bool,
}

impl FieldReader {
    #[inline(always)]
    fn seconds(&mut self, secs: Option<i64>) {
        self.unexpected |= self.secs.is_some() || secs.is_none();
        self.secs = secs;
    }
}

impl Hasher for FieldReader {
    fn finish(&self) -> u64 {
        // Never used as a hash: the fields are read directly.
        0
    }

    fn write(&mut self, _: &[u8]) {
        // Bytes, or an integer of a width an `Instant` field does not have.
        self.unexpected = true;
    }

    #[inline(always)]
    fn write_i64(&mut self, secs: i64) {
        self.seconds(Some(secs));
    }

    #[inline(always)]
    fn write_u64(&mut self, secs: u64) {
        self.seconds(i64::try_from(secs).ok());
    }

    #[inline(always)]
    fn write_u32(&mut self, nanos: u32) {
        self.unexpected |= self.secs.is_none() || self.nanos.is_some();
        self.nanos = Some(nanos);
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
    use proptest::prelude::*;

    /// A scale that reads instants through their `Hash` impl (where the platform allows it), and one
    /// that never does, around the same origin.
    fn both_scales() -> [InstantScale; 2] {
        let fast = InstantScale::new();
        [fast, InstantScale::arithmetic(fast.origin())]
    }

    #[test]
    #[cfg(any(unix, windows))]
    fn instants_are_read_through_their_hash_on_this_platform() {
        // If this fails, stamps are still right (computed by `Instant` arithmetic), only slower: the
        // standard library changed how an `Instant` hashes.
        assert!(InstantScale::new().fields.is_some());
    }

    #[test]
    fn instants_round_trip_in_order_on_both_sides_of_the_origin() {
        for scale in both_scales() {
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
    }

    #[test]
    fn instants_out_of_range_saturate_in_order() {
        for scale in both_scales() {
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

    #[test]
    fn the_field_reader_takes_only_seconds_then_nanoseconds() {
        let read = |value: &dyn Fn(&mut FieldReader)| {
            let mut reader = FieldReader::default();
            value(&mut reader);
            (reader.secs, reader.nanos, reader.unexpected)
        };
        assert_eq!(read(&|r| (7i64, 9u32).hash(r)), (Some(7), Some(9), false));
        assert_eq!(read(&|r| (7u64, 9u32).hash(r)), (Some(7), Some(9), false));
        // Nanoseconds first, two counts of seconds, bytes, or a narrower integer: not an `Instant`'s
        // shape.
        assert!(read(&|r| (9u32, 7i64).hash(r)).2);
        assert!(read(&|r| (7i64, 8i64, 9u32).hash(r)).2);
        assert!(read(&|r| (7i64, 9u32, 1u32).hash(r)).2);
        assert!(read(&|r| (7i64, 9u16).hash(r)).2);
        assert!(read(&|r| "7".hash(r)).2);
    }

    proptest! {
        #![proptest_config(ctrlchan_testkit::props::config(2_000))]

        /// Reading an instant through its hash gives the stamp `Instant` arithmetic gives, to the
        /// nanosecond, on both sides of the origin and past the ±292-year range.
        #[test]
        fn both_readings_give_the_same_stamps(
            nanos in prop_oneof![
                0..=2_000_000_000u64,
                any::<u64>(),
                Just(u64::MAX),
            ],
            later in any::<bool>(),
        ) {
            let [fast, arithmetic] = both_scales();
            let offset = Duration::from_nanos(nanos);
            let at = if later {
                fast.origin().checked_add(offset)
            } else {
                fast.origin().checked_sub(offset)
            };
            if let Some(at) = at {
                prop_assert_eq!(fast.encode(at), arithmetic.encode(at));
                prop_assert_eq!(fast.decode(fast.encode(at)), arithmetic.decode(arithmetic.encode(at)));
            }
        }
    }
}
