//! The sandbox every plugin call runs in: one shared engine (epoch interruption, pooling
//! allocator), and per call a fresh store with a memory limit and a CPU budget.

use super::ChannelContext;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::ResourceTable;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, StoreLimits, StoreLimitsBuilder, UpdateDeadline};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// The limits of one plugin call, per channel (`[channel.limits]` in plugins.toml).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Linear memory a plugin instance may grow to (at most `MAX_MEMORY_BYTES`).
    pub memory_bytes: usize,
    /// Time the guest may spend computing in one call (time waiting on host imports such as
    /// HTTP is not counted).
    pub cpu_budget: Duration,
    /// Wall time for a webhook or an action; fetches get more, for long polls.
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { memory_bytes: 64 << 20, cpu_budget: Duration::from_secs(5), timeout: Duration::from_secs(15) }
    }
}

impl Limits {
    pub fn for_channel(c: &crate::config::ChannelLimits) -> Self {
        let d = Limits::default();
        Limits {
            memory_bytes: c.memory_mb.map(|m| (m as usize) << 20).unwrap_or(d.memory_bytes).min(MAX_MEMORY_BYTES),
            cpu_budget: c.cpu_ms.map(Duration::from_millis).unwrap_or(d.cpu_budget),
            timeout: c.timeout_ms.map(Duration::from_millis).unwrap_or(d.timeout),
        }
    }
}

/// The most memory any instance can get: the size of a pooling allocator slot.
pub const MAX_MEMORY_BYTES: usize = 256 << 20;
/// Plugin instances alive at once across all channels.
pub const MAX_INSTANCES: u32 = 256;
/// What a plugin writes to stderr (a panic message) is kept up to this size for the error.
const STDERR_CAPACITY: usize = 8 << 10;

/// How often the epoch advances: the granularity of the CPU budget.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

pub fn engine() -> wasmtime::Result<Engine> {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(MAX_INSTANCES)
        .total_core_instances(MAX_INSTANCES * 4)
        .total_memories(MAX_INSTANCES * 2)
        .total_tables(MAX_INSTANCES * 4)
        .max_memory_size(MAX_MEMORY_BYTES);
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    let engine = Engine::new(&config)?;
    // The ticker holds only a weak handle, so it ends with the engine.
    let weak = engine.weak();
    std::thread::Builder::new().name("wasm-epoch".into()).spawn(move || {
        while let Some(engine) = weak.upgrade() {
            engine.increment_epoch();
            drop(engine);
            std::thread::sleep(EPOCH_TICK);
        }
    })?;
    Ok(engine)
}

/// What a plugin instance's store holds.
pub struct HostState {
    pub channel: Arc<ChannelContext>,
    wasi: WasiCtx,
    table: ResourceTable,
    limits: StoreLimits,
    /// The guest's computing time so far: what the CPU budget is checked against.
    guest_time: Duration,
    pub http_requests: u32,
    /// The stretch of time the next epoch tick bills the guest for.
    window: Arc<std::sync::Mutex<Window>>,
    /// Set when the CPU budget stopped the call.
    pub cpu_exceeded: bool,
    /// The guest's stderr, where a Rust panic writes its message.
    pub stderr: MemoryOutputPipe,
}

/// Since the guest last went on (after its yield at a tick), and how much of that the host
/// spent on its calls (a kv write, an HTTP request).
struct Window {
    since: std::time::Instant,
    in_host: Duration,
}

impl Window {
    fn new() -> Self {
        Window { since: std::time::Instant::now(), in_host: Duration::ZERO }
    }
}

impl HostState {
    /// A host call for the guest began at `started` and just ended: its time is the host's.
    pub fn host_call_ended(&mut self, started: std::time::Instant) {
        self.window.lock().expect("not poisoned").in_host += started.elapsed();
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// A fresh store for one call of `channel`'s plugin.
pub fn new_store(engine: &Engine, channel: Arc<ChannelContext>) -> Store<HostState> {
    let limits = channel.limits;
    // No preopened directories, no environment, no arguments, no sockets, no inherited stdio:
    // the WASI interfaces exist (Rust's std links them) but grant nothing.
    let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
    let mut wasi = WasiCtx::builder();
    wasi.allow_tcp(false).allow_udp(false).allow_ip_name_lookup(false).stderr(stderr.clone());
    let state = HostState {
        channel,
        wasi: wasi.build(),
        table: ResourceTable::new(),
        limits: StoreLimitsBuilder::new().memory_size(limits.memory_bytes).trap_on_grow_failure(true).build(),
        guest_time: Duration::ZERO,
        http_requests: 0,
        window: Arc::new(std::sync::Mutex::new(Window::new())),
        cpu_exceeded: false,
        stderr,
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limits);
    // At each tick the guest is billed for the time since it last went on, less what the host
    // spent on its calls, and at most one tick: time waiting on the host (kv, HTTP), for the
    // executor after a yield or for a CPU (a flood of other calls) never ends up on a healthy
    // plugin's bill.
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |mut ctx| {
        let state = ctx.data_mut();
        let ran = {
            let w = state.window.lock().expect("not poisoned");
            w.since.elapsed().saturating_sub(w.in_host).min(EPOCH_TICK)
        };
        state.guest_time += ran;
        if state.guest_time > limits.cpu_budget {
            state.cpu_exceeded = true;
            return Err(wasmtime::Trap::Interrupt.into());
        }
        // Yield to the executor at every tick so one busy plugin cannot starve the others.
        let window = state.window.clone();
        Ok(UpdateDeadline::YieldCustom(
            1,
            Box::pin(async move {
                tokio::task::yield_now().await;
                *window.lock().expect("not poisoned") = Window::new();
            }),
        ))
    });
    store
}
