//! SurrealDB's own server (`surreal start …`), linked from its crates so the tests can run
//! several helpdesk hosts on one real store without a download.

use std::process::ExitCode;

fn main() -> ExitCode {
    surrealdb_server::init(surrealdb_server::core::CommunityComposer())
}
