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
    /// Epoch ticks that found the guest executing: its CPU use, in `EPOCH_TICK`s.
    guest_ticks: u64,
    pub http_requests: u32,
    /// When the guest last went on after waiting (for the executor after a yield, or on a host
    /// call of a tick or more): ticks that find it running for less than half a tick since
    /// passed while it waited, and are not its own.
    resumed_at: Arc<std::sync::Mutex<std::time::Instant>>,
    /// Set when the CPU budget stopped the call.
    pub cpu_exceeded: bool,
    /// The guest's stderr, where a Rust panic writes its message.
    pub stderr: MemoryOutputPipe,
}

impl HostState {
    /// A host call for the guest began at `started` and just ended. Only a call that waited a
    /// tick or more counts as a wait: a stream of quick calls (a log line) earns nothing.
    pub fn host_call_ended(&mut self, started: std::time::Instant) {
        if started.elapsed() >= EPOCH_TICK {
            *self.resumed_at.lock().expect("not poisoned") = std::time::Instant::now();
        }
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
        guest_ticks: 0,
        http_requests: 0,
        resumed_at: Arc::new(std::sync::Mutex::new(std::time::Instant::now())),
        cpu_exceeded: false,
        stderr,
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limits);
    // Counted in ticks that interrupted running guest code, not wall time: time spent waiting
    // on the host (HTTP), for the executor (after a yield) or for a CPU (a flood of other
    // calls) never ends up on a healthy plugin's bill.
    let budget_ticks = (limits.cpu_budget.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |mut ctx| {
        let state = ctx.data_mut();
        let running_for = state.resumed_at.lock().expect("not poisoned").elapsed();
        if running_for >= EPOCH_TICK / 2 {
            state.guest_ticks += 1;
            if state.guest_ticks > budget_ticks {
                state.cpu_exceeded = true;
                return Err(wasmtime::Trap::Interrupt.into());
            }
        }
        // Yield to the executor at every tick so one busy plugin cannot starve the others; the
        // time until it is run again (a busy machine) is not the plugin's.
        let resumed_at = state.resumed_at.clone();
        Ok(UpdateDeadline::YieldCustom(
            1,
            Box::pin(async move {
                tokio::task::yield_now().await;
                *resumed_at.lock().expect("not poisoned") = std::time::Instant::now();
            }),
        ))
    });
    store
}
