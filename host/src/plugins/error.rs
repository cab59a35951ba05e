//! Why a plugin call failed, in words an admin understands.

/// The plugin's own `channel-error`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChannelFailure {
    #[error("the platform refused the credentials: {0}")]
    Unauthorized(String),
    #[error("rate limited by the platform for {}s: {message}", retry_after_ms.div_ceil(1000))]
    RateLimited { retry_after_ms: u64, message: String },
    #[error("the channel is misconfigured: {0}")]
    InvalidConfig(String),
    #[error("temporary failure: {0}")]
    Transient(String),
    #[error("{0}")]
    Permanent(String),
    #[error("not supported: {0}")]
    Unsupported(String),
}

/// A failed call into a plugin.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PluginError {
    #[error("{0}")]
    Channel(#[from] ChannelFailure),
    #[error("the plugin crashed: {0}")]
    Trap(String),
    #[error("the plugin computed for longer than its {0} ms CPU budget (an endless loop?) and was stopped")]
    CpuBudget(u64),
    #[error("the plugin did not answer within {0} s and was stopped")]
    Timeout(u64),
    #[error("the plugin tried to use more than its {0} MiB memory limit and was stopped")]
    Memory(u64),
    #[error("the plugin returned malformed data: {0}")]
    Malformed(String),
    #[error("the plugin cannot be loaded: {0}")]
    Load(String),
    #[error("too many plugin calls at once; try again shortly")]
    Busy,
}
