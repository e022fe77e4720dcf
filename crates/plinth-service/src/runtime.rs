//! The running service: its workers, the shared state they report to, and the
//! embedder's handle.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use plinth_host::kinds::{
    Handled, IngressEvent, Outcome, Reply, Service as ServiceKind, ServiceCommand,
};
use plinth_host::{Plugin, PluginInstance};
use plinth_manifest::Overflow;
use plinth_manifest::diagnostic::ToDiagnostic;
use tokio::sync::{Notify, broadcast, oneshot};
use tokio::task::JoinHandle;

use crate::commands::Commands;
use crate::config::ServiceConfig;
use crate::error::ServiceError;
use crate::queue::{Pushed, Queue, Queued, Refused};
use crate::status::{Counters, DeadLetter, DeadReason, ServiceEvent, Stats, Status};

/// What became of an event pushed with [`Service::request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Handled with outcome `ok`; the handler's reply, if it gave one.
    Handled {
        /// The reply (an HTTP route's response).
        reply: Option<Reply>,
    },
    /// Dead-lettered.
    DeadLettered(DeadReason),
}

/// Events kept for slow [`Service::subscribe`] receivers, which then skip (and are told
/// how many they missed).
const EVENT_CAPACITY: usize = 1024;

/// What the workers and the handle share.
struct Shared {
    plugin: Plugin,
    config: ServiceConfig,
    commands: Commands,
    queue: Queue,
    counters: Counters,
    sequence: AtomicU64,
    status: Mutex<Status>,
    events: broadcast::Sender<ServiceEvent>,
    dead_letters: Mutex<VecDeque<DeadLetter>>,
    dead_letter_notify: Notify,
    /// Wakes workers out of a backoff or retry wait when the service stops.
    stopping: Notify,
    runtime: tokio::runtime::Handle,
}

/// A running service. Dropping it stops taking events and lets the workers finish what
/// they hold; [`Service::stop`] also waits for them and calls the plugin's `stop`.
pub struct Service {
    shared: Arc<Shared>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("plugin", &self.shared.plugin.id())
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl Service {
    /// Starts `plugin` as a service: `config.concurrency` workers, each making and
    /// starting its own instance, on the caller's tokio runtime (or, called outside one,
    /// the host's).
    pub fn spawn(
        plugin: Plugin,
        config: ServiceConfig,
        commands: Commands,
    ) -> Result<Service, ServiceError> {
        Self::spawn_with_events(plugin, config, commands).map(|(service, _)| service)
    }

    /// [`Self::spawn`], with a receiver of the service's events subscribed before its
    /// workers start, so none is missed (the first `Ready`, or a failing first start).
    pub fn spawn_with_events(
        plugin: Plugin,
        config: ServiceConfig,
        commands: Commands,
    ) -> Result<(Service, broadcast::Receiver<ServiceEvent>), ServiceError> {
        plugin
            .kind::<ServiceKind>()
            .map_err(|_| ServiceError::NotAService {
                plugin: plugin.id().into(),
            })?;
        // The caller's runtime when there is one (its threads run the guests), else the
        // host's own.
        let runtime = tokio::runtime::Handle::try_current().unwrap_or_else(|_| plugin.runtime());
        let shared = Arc::new(Shared {
            queue: Queue::new(config.queue),
            plugin,
            commands,
            counters: Counters::default(),
            sequence: AtomicU64::new(0),
            status: Mutex::new(Status::Starting),
            events: broadcast::channel(EVENT_CAPACITY).0,
            dead_letters: Mutex::default(),
            dead_letter_notify: Notify::new(),
            stopping: Notify::new(),
            runtime: runtime.clone(),
            config,
        });
        let events = shared.events.subscribe();
        let workers = (0..shared.config.concurrency)
            .map(|_| runtime.spawn(worker(shared.clone())))
            .collect();
        let service = Service {
            shared,
            workers: Mutex::new(workers),
        };
        Ok((service, events))
    }

    /// The plugin.
    pub fn plugin(&self) -> &Plugin {
        &self.shared.plugin
    }

    /// Offers `event` to the queue. A full queue refuses it (`queue-full`) or sheds it
    /// (`Ok(Pushed::Shed)`), by the overflow policy; a stopped service refuses it
    /// (`service-stopped`).
    pub fn push(&self, event: IngressEvent) -> Result<Pushed, ServiceError> {
        self.shared.offer(Queued { event, reply: None })
    }

    /// [`Self::push`], and a receiver for the event's final [`Delivery`] (with the
    /// handler's reply). A shed event's receiver closes without a value.
    pub fn request(
        &self,
        event: IngressEvent,
    ) -> Result<(Pushed, oneshot::Receiver<Delivery>), ServiceError> {
        let (sender, receiver) = oneshot::channel();
        let pushed = self.shared.offer(Queued {
            event,
            reply: Some(sender),
        })?;
        Ok((pushed, receiver))
    }

    /// The current status.
    pub fn status(&self) -> Status {
        self.shared.status()
    }

    /// The counters now.
    pub fn stats(&self) -> Stats {
        self.shared.counters.snapshot()
    }

    /// Events waiting in the queue.
    pub fn queued(&self) -> usize {
        self.shared.queue.len()
    }

    /// Status changes, sheds, dead letters and failed commands from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<ServiceEvent> {
        self.shared.events.subscribe()
    }

    /// Takes the dead letters kept so far, oldest first.
    pub fn take_dead_letters(&self) -> Vec<DeadLetter> {
        self.shared.lock_dead().drain(..).collect()
    }

    /// Waits until at least one dead letter is kept, then takes them all.
    pub async fn next_dead_letters(&self) -> Vec<DeadLetter> {
        loop {
            let notified = self.shared.dead_letter_notify.notified();
            let letters = self.take_dead_letters();
            if !letters.is_empty() {
                return letters;
            }
            notified.await;
        }
    }

    /// Waits until nothing is queued or in flight (every accepted event delivered or
    /// dead-lettered), or `timeout` passes; returns whether it is idle.
    pub async fn idle(&self, timeout: Duration) -> bool {
        let mut events = self.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.stats().pending == 0 {
                return true;
            }
            // Every delivery or dead letter moves `pending`; poll at a short interval
            // as well, since deliveries are not announced one by one.
            let tick = tokio::time::sleep(Duration::from_millis(2));
            tokio::select! {
                _ = tick => {}
                _ = events.recv() => {}
                _ = tokio::time::sleep_until(deadline) => return self.stats().pending == 0,
            }
        }
    }

    /// Stops: takes no more events, lets each worker finish the event it holds, calls the
    /// plugin's `stop` on each instance, and dead-letters what was still queued
    /// ([`DeadReason::Stopped`]). Returns the final counters. Events pushed from then on
    /// are refused (`service-stopped`).
    pub async fn stop(&self) -> Stats {
        self.shared.queue.close();
        self.shared.stopping.notify_waiters();
        let workers =
            std::mem::take(&mut *self.workers.lock().unwrap_or_else(PoisonError::into_inner));
        for worker in workers {
            // A worker that panicked has nothing left to finish.
            let _ = worker.await;
        }
        for item in self.shared.queue.drain() {
            self.shared.dead_letter(item, DeadReason::Stopped);
        }
        self.shared.set_status(Status::Stopped);
        self.stats()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.shared.queue.close();
        self.shared.stopping.notify_waiters();
    }
}

impl Shared {
    fn status(&self) -> Status {
        self.status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn lock_dead(&self) -> std::sync::MutexGuard<'_, VecDeque<DeadLetter>> {
        self.dead_letters
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn emit(&self, event: ServiceEvent) {
        // No subscriber is not an error.
        let _ = self.events.send(event);
    }

    /// Sets the status, announcing a change.
    fn set_status(&self, status: Status) {
        let mut current = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        if *current == status {
            return;
        }
        tracing::info!(
            target: "plinth::service",
            plugin = %self.plugin.id(),
            status = status.as_str(),
            "service status"
        );
        *current = status.clone();
        drop(current);
        self.emit(ServiceEvent::Status {
            plugin: self.plugin.id().into(),
            status,
        });
    }

    fn offer(&self, item: Queued) -> Result<Pushed, ServiceError> {
        Counters::bump(&self.counters.pushed);
        let plugin = || self.plugin.id().to_string();
        match self
            .queue
            .offer(item, || self.sequence.fetch_add(1, Ordering::AcqRel) + 1)
        {
            Ok(sequence) => {
                Counters::bump(&self.counters.accepted);
                Ok(Pushed::Queued { sequence })
            }
            Err(Refused::Closed) => {
                Counters::bump(&self.counters.rejected);
                Err(ServiceError::Stopped { plugin: plugin() })
            }
            Err(Refused::Full) => match self.config.overflow {
                Overflow::Reject => {
                    Counters::bump(&self.counters.rejected);
                    Err(ServiceError::QueueFull {
                        plugin: plugin(),
                        capacity: self.queue.capacity(),
                    })
                }
                Overflow::Shed => {
                    let total = Counters::bump(&self.counters.shed);
                    // One line per power of two: a flood is visible without a line per
                    // event.
                    if total.is_power_of_two() {
                        tracing::warn!(
                            target: "plinth::service",
                            plugin = %self.plugin.id(),
                            shed = total,
                            capacity = self.queue.capacity(),
                            "queue-full: ingress events shed"
                        );
                    }
                    self.emit(ServiceEvent::Shed {
                        plugin: plugin(),
                        total,
                    });
                    Ok(Pushed::Shed)
                }
            },
        }
    }

    fn dead_letter(&self, item: Queued, reason: DeadReason) {
        Counters::bump(&self.counters.dead_lettered);
        tracing::warn!(
            target: "plinth::service",
            plugin = %self.plugin.id(),
            sequence = item.event.sequence,
            reason = ?reason,
            "event dead-lettered"
        );
        self.emit(ServiceEvent::DeadLettered {
            plugin: self.plugin.id().into(),
            sequence: item.event.sequence,
            reason: reason.clone(),
        });
        // Kept before the producer hears of it: a producer told "dead-lettered" finds the
        // letter in `take_dead_letters`.
        let mut letters = self.lock_dead();
        if letters.len() >= self.config.dead_letter_capacity.max(1) {
            letters.pop_front();
            Counters::bump(&self.counters.dead_letters_dropped);
        }
        letters.push_back(DeadLetter {
            event: item.event,
            reason: reason.clone(),
        });
        drop(letters);
        self.dead_letter_notify.notify_waiters();
        if let Some(reply) = item.reply {
            let _ = reply.send(Delivery::DeadLettered(reason));
        }
    }

    /// Records a failure of an instance: the status degrades (or errs after
    /// `error_after` in a row).
    fn failed(&self, failures: u32, reason: String) {
        Counters::bump(&self.counters.restarts);
        tracing::warn!(
            target: "plinth::service",
            plugin = %self.plugin.id(),
            failures,
            %reason,
            "service instance failed; restarting with backoff"
        );
        if failures >= self.config.error_after {
            self.set_status(Status::Error { reason });
        } else {
            self.set_status(Status::Degraded { reason });
        }
    }

    /// Waits `delay`, or less when the service stops; returns whether it is stopping.
    async fn wait(&self, delay: Duration) -> bool {
        let stopping = self.stopping.notified();
        if self.queue.closed() {
            return true;
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => self.queue.closed(),
            _ = stopping => true,
        }
    }

    /// Runs the handler's commands in order; the failures are reported, not fatal.
    fn run_commands(self: &Arc<Self>, commands: Vec<ServiceCommand>) {
        for command in commands {
            let name = command.name();
            if let ServiceCommand::HttpRequest {
                tag,
                method,
                url,
                headers,
                body,
            } = command
            {
                Counters::bump(&self.counters.commands);
                let shared = self.clone();
                self.runtime.spawn(async move {
                    shared.http_request(tag, method, url, headers, body).await;
                });
                continue;
            }
            match self.commands.run(&self.plugin, command) {
                Ok(()) => {
                    Counters::bump(&self.counters.commands);
                }
                Err(diagnostic) => self.command_failed(name, diagnostic),
            }
        }
    }

    fn command_failed(&self, command: &'static str, diagnostic: plinth_manifest::Diagnostic) {
        Counters::bump(&self.counters.commands_failed);
        tracing::warn!(
            target: "plinth::service",
            plugin = %self.plugin.id(),
            command,
            code = diagnostic.code.as_str(),
            message = %diagnostic.message,
            "output command refused"
        );
        self.emit(ServiceEvent::CommandFailed {
            plugin: self.plugin.id().into(),
            command,
            diagnostic,
        });
    }

    /// An `http-request` command: made as the plugin, its answer (or failure) queued as
    /// an ingress event from `http-client` whose connection is the command's tag.
    async fn http_request(
        self: Arc<Self>,
        tag: String,
        method: String,
        url: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) {
        let event = match self.plugin.http_request(&method, &url, headers, body).await {
            Ok(response) => {
                let meta = serde_json::json!({
                    "status": response.status,
                    "headers": response.headers,
                });
                IngressEvent {
                    connection: Some(tag),
                    meta: meta.to_string(),
                    ..IngressEvent::new("http-client", "response", response.body)
                }
            }
            Err(error) => {
                self.command_failed("http-request", error.to_diagnostic());
                let meta = serde_json::json!({"code": error.code, "message": error.message});
                IngressEvent {
                    connection: Some(tag),
                    meta: meta.to_string(),
                    ..IngressEvent::new("http-client", "error", Vec::new())
                }
            }
        };
        // Counted like any producer's event: a full queue refuses or sheds it.
        let _ = self.offer(Queued { event, reply: None });
    }
}

/// One worker: an instance of its own, fed from the shared queue.
async fn worker(shared: Arc<Shared>) {
    let mut worker = Worker {
        shared: shared.clone(),
        instance: None,
        failures: 0,
    };
    while let Some(item) = next(&mut worker).await {
        worker.process(item).await;
    }
    worker.stop_instance().await;
}

/// The next event, once this worker has a started instance; `None` when stopping.
async fn next(worker: &mut Worker) -> Option<Queued> {
    if !worker.ensure_instance().await {
        return None;
    }
    worker.shared.queue.next().await
}

struct Worker {
    shared: Arc<Shared>,
    instance: Option<PluginInstance>,
    /// Failures in a row, for backoff and status.
    failures: u32,
}

/// The `service` kind of `plugin`.
fn services(plugin: &Plugin) -> Result<plinth_host::kinds::Services<'_>, String> {
    plugin.kind::<ServiceKind>().map_err(|e| e.to_string())
}

/// A new instance of the service's plugin, started.
async fn start(shared: &Shared) -> Result<PluginInstance, String> {
    let mut instance = shared
        .plugin
        .instantiate_async()
        .await
        .map_err(|e| format!("instantiate: {e}"))?;
    match services(&shared.plugin)?
        .start(&mut instance, shared.config.deadline)
        .await
    {
        Ok(Ok(())) => Ok(instance),
        Ok(Err(reason)) => Err(format!("start refused: {reason}")),
        Err(e) => Err(format!("start: {e}")),
    }
}

impl Worker {
    /// A started instance, made (with backoff after failures) when there is none;
    /// false when the service stops first.
    async fn ensure_instance(&mut self) -> bool {
        while self.instance.is_none() {
            if self.shared.queue.closed() {
                return false;
            }
            if self.failures > 0 {
                let delay = self.shared.config.restart.delay(self.failures);
                if self.shared.wait(delay).await {
                    return false;
                }
            }
            let shared = self.shared.clone();
            match start(&shared).await {
                Ok(instance) => {
                    self.instance = Some(instance);
                    if self.failures == 0 {
                        self.shared.set_status(Status::Ready);
                    }
                }
                Err(reason) => {
                    self.failures += 1;
                    self.shared.failed(self.failures, reason);
                }
            }
        }
        true
    }

    /// Delivers `item` until an outcome ends it: delivered, or dead-lettered.
    async fn process(&mut self, mut item: Queued) {
        let max = self.shared.config.max_attempts;
        loop {
            item.event.attempt += 1;
            if item.event.attempt > 1 {
                Counters::bump(&self.shared.counters.redeliveries);
            }
            let attempt = item.event.attempt;
            let last = match self.deliver(&item.event).await {
                Ok(handled) => {
                    let Handled {
                        outcome,
                        commands,
                        reply,
                    } = handled;
                    self.shared.run_commands(commands);
                    match outcome {
                        Outcome::Ok => {
                            Counters::bump(&self.shared.counters.delivered);
                            if let Some(sender) = item.reply {
                                let _ = sender.send(Delivery::Handled { reply });
                            }
                            return;
                        }
                        Outcome::Reject(reason) => {
                            self.shared.dead_letter(item, DeadReason::Rejected(reason));
                            return;
                        }
                        Outcome::Retry(after) => {
                            if attempt < max {
                                let delay = after.min(self.shared.config.max_retry_delay);
                                if self.shared.wait(delay).await {
                                    self.shared.dead_letter(item, DeadReason::Stopped);
                                    return;
                                }
                                continue;
                            }
                            format!("retry requested on attempt {attempt}")
                        }
                    }
                }
                Err(reason) => {
                    // The instance is gone (or unusable): the next delivery starts a new
                    // one, after the backoff.
                    self.instance = None;
                    self.failures += 1;
                    self.shared.failed(self.failures, reason.clone());
                    if attempt < max {
                        if !self.ensure_instance().await {
                            self.shared.dead_letter(item, DeadReason::Stopped);
                            return;
                        }
                        continue;
                    }
                    reason
                }
            };
            self.shared.dead_letter(
                item,
                DeadReason::AttemptsExhausted {
                    attempts: attempt,
                    last,
                },
            );
            return;
        }
    }

    /// One delivery on the worker's instance. A success resets the failure count and
    /// makes the service `Ready`.
    async fn deliver(&mut self, event: &IngressEvent) -> Result<Handled, String> {
        let shared = self.shared.clone();
        let deadline = shared.config.deadline;
        let Some(instance) = self.instance.as_mut() else {
            return Err("no started instance".into());
        };
        let handled = services(&shared.plugin)?
            .handle(instance, event, deadline)
            .await
            .map_err(|e| e.to_string())?;
        if self.failures > 0 {
            self.failures = 0;
            self.shared.set_status(Status::Ready);
        }
        Ok(handled)
    }

    /// Calls the plugin's `stop` on a live instance.
    async fn stop_instance(&mut self) {
        let Some(mut instance) = self.instance.take() else {
            return;
        };
        if !instance.is_live() {
            return;
        }
        let shared = self.shared.clone();
        let deadline = shared.config.deadline;
        if let Ok(services) = services(&shared.plugin)
            && let Err(e) = services.stop(&mut instance, deadline).await
        {
            tracing::warn!(
                target: "plinth::service",
                plugin = %self.shared.plugin.id(),
                error = %e,
                "the service's stop failed"
            );
        }
    }
}
