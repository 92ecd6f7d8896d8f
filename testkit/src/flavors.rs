//! Both flavors of channel behind one trait, so that a test is written once and run for each.

use ctrlchan_async::{Config, ConfigError, Flavor, Mpsc, Spsc};

/// The two flavors ([`Spsc`], [`Mpsc`]), each able to build its channels, core and async.
///
/// A test written for both is generic over `F: Both` and runs as `test::<Spsc>()` and
/// `test::<Mpsc>()`.
pub trait Both: Flavor + Sized {
    /// `"spsc"` or `"mpsc"`, for messages.
    const NAME: &'static str;

    /// A core channel (`ctrlchan-sync`) with these capacities.
    fn core<T, C>(data: usize, control: usize) -> CoreEnds<T, C, Self> {
        Self::try_core(Config::new(data, control)).expect("a valid config")
    }

    /// A core channel built with `config`, or the error for it.
    ///
    /// # Errors
    ///
    /// The channel constructor's [`ConfigError`].
    fn try_core<T, C>(config: Config) -> Result<CoreEnds<T, C, Self>, ConfigError>;

    /// An async channel (`ctrlchan-async`) with these capacities.
    fn channel<T, C>(data: usize, control: usize) -> AsyncEnds<T, C, Self>;

    /// Up to `wanted` async data senders: `spsc` has only the one it was built with.
    fn senders<T, C>(
        tx: ctrlchan_async::Sender<T, C, Self>,
        wanted: usize,
    ) -> Vec<ctrlchan_async::Sender<T, C, Self>>;
}

/// The two ends of a core channel.
pub type CoreEnds<T, C, F> = (ctrlchan_sync::Sender<T, C, F>, ctrlchan_sync::Receiver<T, C, F>);

/// The two ends of an async channel.
pub type AsyncEnds<T, C, F> = (ctrlchan_async::Sender<T, C, F>, ctrlchan_async::Receiver<T, C, F>);

impl Both for Spsc {
    const NAME: &'static str = "spsc";

    fn try_core<T, C>(config: Config) -> Result<CoreEnds<T, C, Self>, ConfigError> {
        ctrlchan_sync::spsc::channel(config)
    }

    fn channel<T, C>(data: usize, control: usize) -> AsyncEnds<T, C, Self> {
        ctrlchan_async::spsc::channel(Config::new(data, control)).expect("a valid config")
    }

    fn senders<T, C>(
        tx: ctrlchan_async::Sender<T, C, Self>,
        _wanted: usize,
    ) -> Vec<ctrlchan_async::Sender<T, C, Self>> {
        vec![tx]
    }
}

impl Both for Mpsc {
    const NAME: &'static str = "mpsc";

    fn try_core<T, C>(config: Config) -> Result<CoreEnds<T, C, Self>, ConfigError> {
        ctrlchan_sync::mpsc::channel(config)
    }

    fn channel<T, C>(data: usize, control: usize) -> AsyncEnds<T, C, Self> {
        ctrlchan_async::mpsc::channel(Config::new(data, control)).expect("a valid config")
    }

    fn senders<T, C>(
        tx: ctrlchan_async::Sender<T, C, Self>,
        wanted: usize,
    ) -> Vec<ctrlchan_async::Sender<T, C, Self>> {
        let mut senders: Vec<_> = (1..wanted.max(1)).map(|_| tx.clone()).collect();
        senders.push(tx);
        senders
    }
}
