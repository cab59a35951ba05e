//! `helpdesk:channel@0.2.0` (`wit/since_v0.2.0`, frozen): the types every newer version shares,
//! and its imports, which answer through the newest ones.

wasmtime::component::bindgen!({
    path: "../wit/since_v0.2.0",
    world: "channel",
    imports: { default: async | trappable },
    exports: { default: async },
});

use super::latest::helpdesk::channel as new;
use crate::plugins::sandbox::HostState;
use helpdesk::channel::{config, http, kv, log, secrets, types};

impl types::Host for HostState {}

impl http::Host for HostState {
    async fn send(&mut self, r: types::HttpRequest, timeout_ms: Option<u32>) -> wasmtime::Result<Result<types::HttpResponse, http::HttpError>> {
        Ok(new::http::Host::send(self, r, timeout_ms).await?.map_err(|e| match e {
            new::http::HttpError::NotAllowed(m) => http::HttpError::NotAllowed(m),
            new::http::HttpError::Timeout => http::HttpError::Timeout,
            new::http::HttpError::Connection(m) => http::HttpError::Connection(m),
            new::http::HttpError::TooLarge => http::HttpError::TooLarge,
            new::http::HttpError::InvalidRequest(m) => http::HttpError::InvalidRequest(m),
            new::http::HttpError::LimitExceeded(m) => http::HttpError::LimitExceeded(m),
        }))
    }
}

impl config::Host for HostState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        new::config::Host::get(self, key).await
    }
}

impl secrets::Host for HostState {
    async fn get(&mut self, name: String) -> wasmtime::Result<Option<String>> {
        new::secrets::Host::get(self, name).await
    }
}

impl kv::Host for HostState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, String>> {
        new::kv::Host::get(self, key).await
    }
    async fn set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<Result<(), String>> {
        new::kv::Host::set(self, key, value).await
    }
    async fn delete(&mut self, key: String) -> wasmtime::Result<()> {
        new::kv::Host::delete(self, key).await
    }
}

impl log::Host for HostState {
    async fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        let level = match level {
            log::Level::Trace => new::log::Level::Trace,
            log::Level::Debug => new::log::Level::Debug,
            log::Level::Info => new::log::Level::Info,
            log::Level::Warn => new::log::Level::Warn,
            log::Level::Error => new::log::Level::Error,
        };
        new::log::Host::log(self, level, message).await
    }
}
