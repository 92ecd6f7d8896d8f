//! The optional features through the facade, a test per feature. CI runs the facade's tests once per
//! feature combination (`.ci/run`): the facade has no dev-dependency that turns a feature on, so each
//! run builds exactly that combination, and a test here is compiled and run only where its feature is.

/// Puts a sleep of `timer` through its contract: `reset` moves its deadline, and it completes once the
/// clock reaches the new one.
#[cfg(any(feature = "tokio", feature = "async-io"))]
async fn sleep_resets_and_completes<T: ctrlchan::Timer>(timer: &T) {
    use ctrlchan::Sleep;
    use std::time::Duration;

    let start = timer.now();
    let mut sleep = std::pin::pin!(timer.sleep_until(start + Duration::from_millis(1)));
    let later = start + Duration::from_millis(20);
    sleep.as_mut().reset(later);
    assert_eq!(sleep.deadline(), later);
    sleep.as_mut().await;
    assert!(timer.now() >= later, "a sleep completes at or after its deadline");
}

#[cfg(feature = "stream")]
#[test]
fn with_stream_the_receiver_is_a_stream_that_ends_at_close() {
    use ctrlchan::{Config, mpsc};
    use futures::StreamExt;

    let (mut tx, rx) = mpsc::channel::<u32, ()>(Config::new(4, 1)).unwrap();
    let items = futures::executor::block_on(async move {
        for i in 0..3 {
            tx.send(i).await.unwrap();
        }
        drop(tx);
        rx.collect::<Vec<_>>().await
    });
    assert_eq!(items, [0, 1, 2]);
}

#[cfg(feature = "tokio")]
#[test]
fn with_tokio_the_tokio_timer_sleeps_on_the_paused_clock() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(sleep_resets_and_completes(&ctrlchan::TokioTimer));
}

#[cfg(feature = "async-io")]
#[test]
fn with_async_io_the_async_io_timer_sleeps_on_any_executor() {
    futures::executor::block_on(sleep_resets_and_completes(&ctrlchan::AsyncIoTimer));
}
