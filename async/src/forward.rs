//! Methods of an async handle that only pass the call on to its core handle (`self.inner`): nothing
//! to wait for, nobody to wake.
//!
//! Each gets a one-line doc that links to the core's method, the one place where its behaviour is
//! written down, so the two docs cannot drift apart.

/// `forward!("Receiver" => fn len(&self) -> usize; fn take_lifecycle(&mut self) -> Option<Lifecycle>;)`
/// writes the listed methods, each calling the method of the same name of `self.inner`, the core's
/// handle of the type named first.
macro_rules! forward {
    ($core:literal =>) => {};
    ($core:literal => fn $name:ident(&self) -> $ret:ty; $($rest:tt)*) => {
        #[doc = concat!(
            "The core's [`", $core, "::", stringify!($name), "`](ctrlchan_sync::", $core, "::",
            stringify!($name), "): nothing to wait for, nobody to wake."
        )]
        #[inline]
        pub fn $name(&self) -> $ret {
            self.inner.$name()
        }
        forward!($core => $($rest)*);
    };
    ($core:literal => fn $name:ident(&mut self) -> $ret:ty; $($rest:tt)*) => {
        #[doc = concat!(
            "The core's [`", $core, "::", stringify!($name), "`](ctrlchan_sync::", $core, "::",
            stringify!($name), "): nothing to wait for, nobody to wake."
        )]
        #[inline]
        pub fn $name(&mut self) -> $ret {
            self.inner.$name()
        }
        forward!($core => $($rest)*);
    };
}

pub(crate) use forward;
