//! Four executors behind one spawning interface, so that an async scenario is written once and run on
//! each: a tokio current-thread runtime, a tokio multi-thread runtime with two workers,
//! `async_executor::Executor` (smol's), and `futures::executor::LocalPool`.
//!
//! A scenario is an `async fn` that receives a [`Spawner`] for the executor it runs on; producers and
//! consumers are spawned as separate tasks, so that waits and wakeups really happen.
//! [`on_every_executor!`](crate::on_every_executor) writes one `#[test]` per (scenario, executor) pair.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures::channel::oneshot;

/// A spawned future, boxed so that the four executors share one spawning interface.
pub type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Spawns tasks on the executor a scenario runs on. Held by the scenario's main future only.
#[derive(Clone)]
pub struct Spawner(Rc<dyn Fn(BoxFuture)>);

impl std::fmt::Debug for Spawner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Spawner")
    }
}

/// The output of a spawned task. Awaiting it panics if the task panicked or was dropped, so a failed
/// assertion inside a task fails the scenario.
#[derive(Debug)]
pub struct Task<T>(oneshot::Receiver<T>);

impl<T> Future for Task<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|result| result.expect("the task panicked or was dropped"))
    }
}

impl Spawner {
    /// Spawns `future` as a task of its own.
    pub fn spawn<T: Send + 'static>(&self, future: impl Future<Output = T> + Send + 'static) -> Task<T> {
        let (output, task) = oneshot::channel();
        (self.0)(Box::pin(async move {
            let _ = output.send(future.await);
        }));
        Task(task)
    }

    /// Spawns `future` and returns once its first poll returned `Pending`: the task is then registered
    /// in whatever wait it is in. This orders waiters deterministically on any executor, without sleeps.
    /// Panics if the future completes without ever waiting.
    pub async fn spawn_waiting<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> Task<T> {
        let (waiting, is_waiting) = oneshot::channel();
        let task = self.spawn(FirstPending {
            future: Box::pin(future),
            waiting: Some(waiting),
        });
        is_waiting
            .await
            .expect("the task completed without waiting, so the scenario tests nothing");
        task
    }
}

/// Reports the first `Pending` of the future it wraps.
struct FirstPending<F> {
    future: Pin<Box<F>>,
    waiting: Option<oneshot::Sender<()>>,
}

impl<F: Future> Future for FirstPending<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let poll = self.future.as_mut().poll(cx);
        if poll.is_pending()
            && let Some(waiting) = self.waiting.take()
        {
            let _ = waiting.send(());
        }
        poll
    }
}

/// Runs a scenario on this executor.
pub fn tokio_current_thread<F: Future<Output = ()>>(scenario: impl FnOnce(Spawner) -> F) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a tokio runtime");
    let handle = runtime.handle().clone();
    let spawner = Spawner(Rc::new(move |future| drop(handle.spawn(future))));
    runtime.block_on(scenario(spawner));
}

/// Runs a scenario on this executor.
pub fn tokio_multi_thread<F: Future<Output = ()>>(scenario: impl FnOnce(Spawner) -> F) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("a tokio runtime");
    let handle = runtime.handle().clone();
    let spawner = Spawner(Rc::new(move |future| drop(handle.spawn(future))));
    // The scenario's main future runs on this thread, its tasks on the two workers.
    runtime.block_on(scenario(spawner));
}

/// Runs a scenario on this executor.
pub fn async_executor<F: Future<Output = ()>>(scenario: impl FnOnce(Spawner) -> F) {
    let executor = Arc::new(::async_executor::Executor::new());
    let spawn_on = Arc::clone(&executor);
    let spawner = Spawner(Rc::new(move |future| spawn_on.spawn(future).detach()));
    futures_lite::future::block_on(executor.run(scenario(spawner)));
}

/// Runs a scenario on this executor.
pub fn futures_local_pool<F: Future<Output = ()>>(scenario: impl FnOnce(Spawner) -> F) {
    use futures::task::SpawnExt;
    let mut pool = futures::executor::LocalPool::new();
    let spawn_on = pool.spawner();
    let spawner = Spawner(Rc::new(move |future| {
        spawn_on.spawn(future).expect("the pool accepts tasks");
    }));
    pool.run_until(scenario(spawner));
}

/// A sleep that works on every executor: a timer thread wakes it at its deadline, and it completes
/// when a poll finds the deadline passed (so an early or spurious poll is harmless).
pub fn sleep(duration: Duration) -> Sleep {
    Sleep {
        deadline: Instant::now() + duration,
        registered: None,
    }
}

/// The future of [`sleep`].
#[derive(Debug)]
pub struct Sleep {
    deadline: Instant,
    registered: Option<Waker>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        if !self
            .registered
            .as_ref()
            .is_some_and(|waker| waker.will_wake(cx.waker()))
        {
            self.registered = Some(cx.waker().clone());
            timer()
                .send((self.deadline, cx.waker().clone()))
                .expect("the timer thread runs");
        }
        Poll::Pending
    }
}

/// The timer thread shared by every [`Sleep`] of this test binary.
fn timer() -> &'static std::sync::mpsc::Sender<(Instant, Waker)> {
    static TIMER: std::sync::OnceLock<std::sync::mpsc::Sender<(Instant, Waker)>> =
        std::sync::OnceLock::new();
    TIMER.get_or_init(|| {
        let (register, registrations) = std::sync::mpsc::channel::<(Instant, Waker)>();
        std::thread::spawn(move || {
            let mut pending: Vec<(Instant, Waker)> = Vec::new();
            loop {
                let now = Instant::now();
                pending.retain(|(deadline, waker)| {
                    let due = *deadline <= now;
                    if due {
                        waker.wake_by_ref();
                    }
                    !due
                });
                let next = match pending.iter().map(|(deadline, _)| *deadline).min() {
                    Some(deadline) => {
                        registrations.recv_timeout(deadline.saturating_duration_since(Instant::now()))
                    }
                    None => registrations
                        .recv()
                        .map_err(|_| std::sync::mpsc::RecvTimeoutError::Disconnected),
                };
                match next {
                    Ok(entry) => pending.push(entry),
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                }
            }
        });
        register
    })
}

/// Writes one `#[test]` per (scenario, executor) pair: `name: scenario;` lines, each scenario an
/// `FnOnce(Spawner) -> impl Future<Output = ()>`, run under the watchdog on each of the four executors
/// in a module named after it.
#[macro_export]
macro_rules! on_every_executor {
    ($($(#[$meta:meta])* $test:ident: $scenario:expr;)*) => {
        $crate::on_every_executor!(@executor tokio_current_thread; $($(#[$meta])* $test: $scenario;)*);
        $crate::on_every_executor!(@executor tokio_multi_thread; $($(#[$meta])* $test: $scenario;)*);
        $crate::on_every_executor!(@executor async_executor; $($(#[$meta])* $test: $scenario;)*);
        $crate::on_every_executor!(@executor futures_local_pool; $($(#[$meta])* $test: $scenario;)*);
    };
    (@executor $executor:ident; $($(#[$meta:meta])* $test:ident: $scenario:expr;)*) => {
        mod $executor {
            use super::*;
            $(
                $(#[$meta])*
                #[test]
                fn $test() {
                    $crate::watchdog::with_watchdog(
                        concat!(stringify!($executor), "::", stringify!($test)),
                        || $crate::executors::$executor($scenario),
                    );
                }
            )*
        }
    };
}
