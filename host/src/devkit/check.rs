//! `helpdesk plugin check`: load a component and print what it describes.

use std::path::Path;

pub async fn check_plugin(path: &Path) -> anyhow::Result<()> {
    let (_, plugin) = super::load(path).await?;
    let info = plugin.info();
    println!("{}: a channel plugin for {} ({})", path.display(), info.platform_name, info.platform);
    let receives: Vec<&str> = [(info.polls, "polling"), (info.webhooks, "webhooks")].iter().filter(|(on, _)| *on).map(|(_, n)| *n).collect();
    println!("  receives: {}", receives.join(" and "));
    if let Some(h) = info.reply_window_hours {
        println!("  replies allowed within {h} h of the customer's last message");
    }
    if let Some((h, tag)) = &info.tagged_reply_window {
        println!("  then within {h} h with the {tag} tag");
    }
    println!("  contract: helpdesk:channel@{}", info.contract);
    println!("  sha256: {} (pin it in plugins.toml with `sha256 = \"...\"`)", info.sha256);
    for c in &info.capabilities {
        let actions: Vec<&str> = c.actions.iter().map(|a| a.as_str()).collect();
        println!("  {}: {}", c.kind.as_str(), actions.join(", "));
        if let Some(n) = c.max_reply_chars {
            println!("    replies of at most {n} characters");
        }
        for note in &c.notes {
            println!("    note: {note}");
        }
        for (action, notes) in &c.action_notes {
            for note in notes {
                println!("    {action}: {note}");
            }
        }
        for (action, (key, value)) in &c.action_requires {
            println!("    {action}: only on channels with {key} = \"{value}\"");
        }
        for (action, only) in &c.action_only {
            let whose = match only {
                crate::model::Direction::Outbound => "our own messages",
                crate::model::Direction::Inbound => "the audience's messages",
            };
            println!("    {action}: only on {whose}");
        }
        if let Some(f) = info.files_for(c.kind) {
            let kinds: Vec<String> = f.kinds.iter().map(|k| format!("{k:?}").to_lowercase()).collect();
            println!("    replies carry up to {} files ({}) of at most {} bytes each", f.max_files, kinds.join(", "), f.max_bytes);
            for note in &f.notes {
                println!("    files: {note}");
            }
        }
    }
    for s in &info.settings {
        let what = if s.secret { "secret" } else { "config" };
        let required = if s.required { ", required" } else { "" };
        let default = s.default.as_deref().map(|d| format!(", default `{d}`")).unwrap_or_default();
        let help = if s.help.is_empty() { String::new() } else { format!(": {}", s.help) };
        println!("  {what} `{}` ({}{required}{default}){help}", s.name, s.label);
    }
    if !info.allowed_hosts.is_empty() {
        println!("  asks to reach: {}", info.allowed_hosts.join(", "));
    }
    Ok(())
}
