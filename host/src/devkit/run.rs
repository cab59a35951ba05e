//! `helpdesk plugin run`: call one export of a component, against the real platform, and
//! print what it returned as JSON. No server, no store: kv lives in memory for the call.

use crate::config::AllowedHost;
use crate::model::{ActionKind, Attachment, AttachmentKind, Direction};
use crate::plugins::{ActionTarget, WebhookRequest};
use anyhow::Context;
use serde_json::json;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct RunArgs {
    /// The component (`.wasm`).
    pub wasm: PathBuf,
    /// A config value, `key=value` (repeatable).
    #[arg(long = "config", value_name = "KEY=VALUE")]
    pub config: Vec<String>,
    /// A secret, `name=value`, or `name=env:VARIABLE` to read it from the environment.
    #[arg(long = "secret", alias = "secrets", value_name = "NAME=VALUE")]
    pub secrets: Vec<String>,
    /// A host it may reach (`https://api.example.com`); by default the hosts it declares.
    #[arg(long = "allow", value_name = "URL")]
    pub allow: Vec<String>,
    #[command(subcommand)]
    pub export: Export,
}

#[derive(clap::Subcommand)]
pub enum Export {
    /// What the plugin is and can do.
    Describe,
    /// Its connection test with these settings.
    Check,
    /// One page of what happened since `--cursor`.
    Fetch {
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Hand it one webhook delivery.
    Webhook {
        /// The request body, from a file (`-` for standard input).
        #[arg(long)]
        body: PathBuf,
        /// `Name: value` (repeatable).
        #[arg(long = "header")]
        headers: Vec<String>,
        #[arg(long, default_value = "POST")]
        method: String,
        #[arg(long, default_value = "/webhooks/run")]
        path: String,
    },
    /// Perform an action on an interaction.
    Perform {
        #[command(flatten)]
        target: TargetArgs,
        /// `reply`, `like`, `delete`, ...
        #[arg(long)]
        action: String,
        #[arg(long)]
        text: Option<String>,
        #[arg(long)]
        emoji: Option<String>,
    },
    /// Download an attachment as an agent opening it would, into `--out`.
    Media {
        /// The interaction carrying it.
        #[command(flatten)]
        target: TargetArgs,
        /// The attachment's kind: `image`, `video`, `audio`, `file`, ...
        #[arg(long, default_value = "file")]
        attachment: String,
        /// The attachment's platform id (a Telegram `file_id`, a WhatsApp media id).
        #[arg(long)]
        file_id: Option<String>,
        /// The attachment's URL, where the platform gave one.
        #[arg(long)]
        url: Option<String>,
        /// Where to write the file.
        #[arg(long)]
        out: PathBuf,
    },
}

/// The interaction an export is called on.
#[derive(clap::Args)]
pub struct TargetArgs {
    /// `private_message`, `comment`, ...
    #[arg(long)]
    kind: String,
    #[arg(long)]
    platform_id: String,
    #[arg(long)]
    thread_key: String,
    #[arg(long, default_value = "")]
    author_id: String,
    /// The target is the brand's own message.
    #[arg(long)]
    ours: bool,
    /// `key=value` the plugin attached to the interaction (repeatable).
    #[arg(long = "meta")]
    meta: Vec<String>,
}

impl TargetArgs {
    fn target(self) -> anyhow::Result<ActionTarget> {
        Ok(ActionTarget {
            kind: serde_json::from_value(json!(self.kind)).map_err(|e| anyhow::anyhow!("--kind: {e}"))?,
            direction: if self.ours { Direction::Outbound } else { Direction::Inbound },
            platform_id: self.platform_id,
            thread_key: self.thread_key,
            author_id: self.author_id,
            meta: super::pairs(&self.meta, "meta")?.into_iter().collect(),
        })
    }
}

pub async fn run_plugin(args: RunArgs) -> anyhow::Result<()> {
    let (runtime, plugin) = super::load(&args.wasm).await?;
    let config = super::pairs(&args.config, "config")?;
    let secrets = super::pairs(&args.secrets, "secret")?
        .into_iter()
        .map(|(k, v)| match v.strip_prefix("env:") {
            Some(var) => std::env::var(var).map(|v| (k.clone(), v)).with_context(|| format!("secret `{k}`: ${var} is not set")),
            None => Ok((k, v)),
        })
        .collect::<anyhow::Result<_>>()?;
    let hosts = if args.allow.is_empty() { plugin.info().allowed_hosts.clone() } else { args.allow.clone() };
    let hosts = hosts.iter().map(|h| AllowedHost::parse(h).map_err(anyhow::Error::msg)).collect::<anyhow::Result<Vec<_>>>()?;
    let ctx = runtime.custom_context("run", config, secrets, hosts, super::memory_kv().await?, None);
    let out = match args.export {
        Export::Describe => serde_json::to_value(plugin.info())?,
        Export::Check => json!({ "account": plugin.check(ctx).await? }),
        Export::Fetch { cursor } => {
            let page = plugin.fetch(ctx, cursor).await?;
            json!({ "events": page.events, "next_cursor": page.next_cursor, "poll_after_ms": page.poll_after.as_millis() as u64, "left_out": page.dropped })
        }
        Export::Webhook { body, headers, method, path } => {
            let body = if body.as_os_str() == "-" {
                let mut b = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut b)?;
                b
            } else {
                std::fs::read(&body).with_context(|| format!("cannot read {}", body.display()))?
            };
            let headers = headers
                .iter()
                .map(|h| h.split_once(':').map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).ok_or_else(|| anyhow::anyhow!("--header `{h}` is not `Name: value`")))
                .collect::<anyhow::Result<_>>()?;
            let out = plugin.handle_webhook(ctx, WebhookRequest { method, url: path, headers, body }).await?;
            json!({ "status": out.status, "headers": out.headers, "body": String::from_utf8_lossy(&out.body), "events": out.events, "left_out": out.dropped })
        }
        Export::Perform { target, action, text, emoji } => {
            let target = target.target()?;
            let action_kind: ActionKind = serde_json::from_value(json!(action)).map_err(|e| anyhow::anyhow!("--action: {e}"))?;
            let action = crate::inbox::action_from(action_kind, text.as_deref(), emoji.as_deref()).map_err(|e| anyhow::anyhow!("{e}"))?;
            json!({ "created": plugin.perform(ctx, target, action).await? })
        }
        Export::Media { target, attachment, file_id, url, out } => {
            let target = target.target()?;
            let attachment_kind: AttachmentKind = serde_json::from_value(json!(attachment)).map_err(|e| anyhow::anyhow!("--attachment: {e}"))?;
            let attachment = Attachment { kind: attachment_kind, platform_id: file_id, url, mime_type: None, name: None, size: None };
            let media = plugin.media(ctx, target, attachment).await?;
            std::fs::write(&out, &media.bytes).with_context(|| format!("cannot write {}", out.display()))?;
            json!({ "saved": out, "bytes": media.bytes.len(), "content_type": media.content_type })
        }
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
