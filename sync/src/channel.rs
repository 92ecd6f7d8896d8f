//! How a channel is built: its three shared parts (`lanes.rs`) and its first two handles.

use crate::barrier::Barriers;
use crate::config::{Config, ConfigError, Lane};
use crate::control::ControlSender;
use crate::flavor::{DataRing, Flavor};
use crate::lanes::{ControlLane, DataLane, Shared};
use crate::loom::Arc;
use crate::mpsc_ring::MpscRing;
use crate::receiver::Receiver;
use crate::sender::Sender;

/// The two ends a channel is built with.
pub(crate) type Ends<T, C, F> = (Sender<T, C, F>, Receiver<T, C, F>);

/// Builds a channel of flavor `F`.
pub(crate) fn channel<T, C, F: Flavor>(config: Config) -> Result<Ends<T, C, F>, ConfigError> {
    config.validate()?;
    let barriers = Barriers::new(config.fences());
    let (ring, producer, consumer) = F::Ring::<T>::build(config.data_capacity(), barriers)?;
    let data = Arc::new(DataLane::<T, F>::new(ring));
    let control = Arc::new(ControlLane::new(MpscRing::new(
        Lane::Control,
        config.control_capacity(),
    )?));
    let shared = Arc::new(Shared::new());
    let control_sender = ControlSender::from_parts(control.clone(), shared.clone());
    Ok((
        Sender::from_parts(data.clone(), producer, control_sender),
        Receiver::from_parts(data, consumer, control, shared),
    ))
}
