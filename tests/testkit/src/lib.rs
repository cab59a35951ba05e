//! Loopback emulators of the social platforms, written from their public APIs
//! (shared/reference/platform-apis.md), for the end-to-end tests and `helpdesk demo`.

pub mod telegram;
pub mod tiktok;
pub mod example;
pub mod google;
pub mod graph;
pub mod line;
pub mod linkedin;
pub mod mail;
pub mod server;
pub mod surreal;
pub mod traffic;
pub mod twilio;
pub mod translate;
pub mod viber;
pub mod wechat;
pub mod x;

/// A call an emulator received: its method, its path (with the query), its JSON body.
#[derive(Clone, Debug)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub body: serde_json::Value,
}

/// One page of a listing the emulators page by offset (each in its platform's own words: page
/// tokens, cursors, `start`/`count`): `size` items from `start`, and where the next page starts
/// when there is one.
pub fn page_of(items: &[serde_json::Value], start: usize, size: usize) -> (Vec<serde_json::Value>, Option<usize>) {
    let page = items.iter().skip(start).take(size).cloned().collect();
    (page, (start + size < items.len()).then_some(start + size))
}

/// An emulator on loopback: a port of its own, and `app` answering on it from then on.
pub async fn listen() -> std::io::Result<(tokio::net::TcpListener, std::net::SocketAddr)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

pub fn serve(listener: tokio::net::TcpListener, app: axum::Router) {
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
}

/// Now, in seconds since the epoch (the emulators' clocks).
pub fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The picture the emulators' customers send (a 320×200 PNG).
pub const PHOTO_PNG: &[u8] = include_bytes!("../assets/photo.png");
