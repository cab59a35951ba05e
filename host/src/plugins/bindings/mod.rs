//! The contract versions this host loads, one bindings module per frozen `wit/since_vX.Y.Z`
//! (as Zed's extension host keeps them). The newest is `latest`: the rest of the host speaks
//! only its types, and each older version converts its types into it at the boundary.

pub mod since_v0_1_0;
pub mod since_v0_2_0;
pub mod since_v0_3_0;
pub mod since_v0_4_0;
pub mod since_v0_5_0;
pub mod since_v0_6_0;
pub mod since_v0_7_0;

pub use since_v0_7_0 as latest;
pub use latest::files;
pub use latest::wit;

use super::sandbox::HostState;
use wasmtime::component::{Component, Linker};
use wasmtime::Store;

/// A contract version a component can be built against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ContractVersion {
    V0_1_0,
    V0_2_0,
    V0_3_0,
    V0_4_0,
    V0_5_0,
    V0_6_0,
    V0_7_0,
}

impl ContractVersion {
    /// Oldest first.
    pub const ALL: [ContractVersion; 7] = [
        ContractVersion::V0_1_0,
        ContractVersion::V0_2_0,
        ContractVersion::V0_3_0,
        ContractVersion::V0_4_0,
        ContractVersion::V0_5_0,
        ContractVersion::V0_6_0,
        ContractVersion::V0_7_0,
    ];
    pub const LATEST: ContractVersion = ContractVersion::V0_7_0;

    pub fn as_str(self) -> &'static str {
        match self {
            ContractVersion::V0_1_0 => "0.1.0",
            ContractVersion::V0_2_0 => "0.2.0",
            ContractVersion::V0_3_0 => "0.3.0",
            ContractVersion::V0_4_0 => "0.4.0",
            ContractVersion::V0_5_0 => "0.5.0",
            ContractVersion::V0_6_0 => "0.6.0",
            ContractVersion::V0_7_0 => "0.7.0",
        }
    }

    /// The version a component's `helpdesk:channel/...@X.Y.Z` names select, as wasmtime's
    /// linker matches them: the same major, or for 0.x the same minor.
    pub fn matching(version: &str) -> Option<ContractVersion> {
        let parts: Vec<u64> = version.split('.').map(|p| p.parse().unwrap_or(u64::MAX)).collect();
        Self::ALL.into_iter().find(|v| {
            let ours: Vec<u64> = v.as_str().split('.').map(|p| p.parse().unwrap_or(0)).collect();
            match (ours.as_slice(), parts.as_slice()) {
                ([0, a, ..], [0, b, ..]) => a == b,
                ([a, ..], [b, ..]) => *a != 0 && a == b,
                _ => false,
            }
        })
    }
}

impl std::fmt::Display for ContractVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every version's imports, in one linker: their names differ by version.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    use wasmtime::component::HasSelf;
    since_v0_1_0::Channel::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    since_v0_2_0::Channel::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    since_v0_3_0::Channel::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    since_v0_4_0::Channel::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    since_v0_5_0::Channel::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    since_v0_6_0::Channel::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    since_v0_7_0::Channel::add_to_linker::<_, HasSelf<_>>(linker, |s| s)?;
    Ok(())
}

/// A component checked against its version's world, ready to instantiate.
pub enum ChannelPre {
    V0_1_0(since_v0_1_0::ChannelPre<HostState>),
    V0_2_0(since_v0_2_0::ChannelPre<HostState>),
    V0_3_0(since_v0_3_0::ChannelPre<HostState>),
    V0_4_0(since_v0_4_0::ChannelPre<HostState>),
    V0_5_0(since_v0_5_0::ChannelPre<HostState>),
    V0_6_0(since_v0_6_0::ChannelPre<HostState>),
    V0_7_0(since_v0_7_0::ChannelPre<HostState>),
}

impl ChannelPre {
    pub fn new(version: ContractVersion, linker: &Linker<HostState>, component: &Component) -> wasmtime::Result<Self> {
        let pre = linker.instantiate_pre(component)?;
        Ok(match version {
            ContractVersion::V0_1_0 => ChannelPre::V0_1_0(since_v0_1_0::ChannelPre::new(pre)?),
            ContractVersion::V0_2_0 => ChannelPre::V0_2_0(since_v0_2_0::ChannelPre::new(pre)?),
            ContractVersion::V0_3_0 => ChannelPre::V0_3_0(since_v0_3_0::ChannelPre::new(pre)?),
            ContractVersion::V0_4_0 => ChannelPre::V0_4_0(since_v0_4_0::ChannelPre::new(pre)?),
            ContractVersion::V0_5_0 => ChannelPre::V0_5_0(since_v0_5_0::ChannelPre::new(pre)?),
            ContractVersion::V0_6_0 => ChannelPre::V0_6_0(since_v0_6_0::ChannelPre::new(pre)?),
            ContractVersion::V0_7_0 => ChannelPre::V0_7_0(since_v0_7_0::ChannelPre::new(pre)?),
        })
    }

    pub fn version(&self) -> ContractVersion {
        match self {
            ChannelPre::V0_1_0(_) => ContractVersion::V0_1_0,
            ChannelPre::V0_2_0(_) => ContractVersion::V0_2_0,
            ChannelPre::V0_3_0(_) => ContractVersion::V0_3_0,
            ChannelPre::V0_4_0(_) => ContractVersion::V0_4_0,
            ChannelPre::V0_5_0(_) => ContractVersion::V0_5_0,
            ChannelPre::V0_6_0(_) => ContractVersion::V0_6_0,
            ChannelPre::V0_7_0(_) => ContractVersion::V0_7_0,
        }
    }

    pub async fn instantiate(&self, store: &mut Store<HostState>) -> wasmtime::Result<Channel> {
        Ok(match self {
            ChannelPre::V0_1_0(p) => Channel::V0_1_0(p.instantiate_async(store).await?),
            ChannelPre::V0_2_0(p) => Channel::V0_2_0(p.instantiate_async(store).await?),
            ChannelPre::V0_3_0(p) => Channel::V0_3_0(p.instantiate_async(store).await?),
            ChannelPre::V0_4_0(p) => Channel::V0_4_0(p.instantiate_async(store).await?),
            ChannelPre::V0_5_0(p) => Channel::V0_5_0(p.instantiate_async(store).await?),
            ChannelPre::V0_6_0(p) => Channel::V0_6_0(p.instantiate_async(store).await?),
            ChannelPre::V0_7_0(p) => Channel::V0_7_0(p.instantiate_async(store).await?),
        })
    }
}

/// An instance of a plugin, whatever its version; every call answers in the newest types.
pub enum Channel {
    V0_1_0(since_v0_1_0::Channel),
    V0_2_0(since_v0_2_0::Channel),
    V0_3_0(since_v0_3_0::Channel),
    V0_4_0(since_v0_4_0::Channel),
    V0_5_0(since_v0_5_0::Channel),
    V0_6_0(since_v0_6_0::Channel),
    V0_7_0(since_v0_7_0::Channel),
}

type Outcome<T> = wasmtime::Result<Result<T, wit::ChannelError>>;

impl Channel {
    pub async fn describe(&self, s: &mut Store<HostState>) -> wasmtime::Result<wit::ChannelInfo> {
        match self {
            Channel::V0_1_0(c) => Ok(c.call_describe(s).await?.into()),
            Channel::V0_2_0(c) => Ok(c.call_describe(s).await?.into()),
            Channel::V0_3_0(c) => Ok(c.call_describe(s).await?.into()),
            Channel::V0_4_0(c) => c.call_describe(s).await,
            Channel::V0_5_0(c) => c.call_describe(s).await,
            Channel::V0_6_0(c) => c.call_describe(s).await,
            Channel::V0_7_0(c) => c.call_describe(s).await,
        }
    }

    /// 0.1.0 had no `check`: the answer says so.
    pub async fn check(&self, s: &mut Store<HostState>) -> Outcome<String> {
        match self {
            Channel::V0_1_0(_) => Ok(Err(wit::ChannelError::Unsupported(
                "this plugin was built against contract 0.1.0, which has no connection test".into(),
            ))),
            Channel::V0_2_0(c) => Ok(c.call_check(s).await?.map_err(Into::into)),
            Channel::V0_3_0(c) => Ok(c.call_check(s).await?.map_err(Into::into)),
            Channel::V0_4_0(c) => c.call_check(s).await,
            Channel::V0_5_0(c) => c.call_check(s).await,
            Channel::V0_6_0(c) => c.call_check(s).await,
            Channel::V0_7_0(c) => c.call_check(s).await,
        }
    }

    pub async fn fetch(&self, s: &mut Store<HostState>, cursor: Option<&str>) -> Outcome<wit::Page> {
        match self {
            Channel::V0_1_0(c) => Ok(c.call_fetch(s, cursor).await?.map(Into::into).map_err(Into::into)),
            Channel::V0_2_0(c) => Ok(c.call_fetch(s, cursor).await?.map(Into::into).map_err(Into::into)),
            Channel::V0_3_0(c) => Ok(c.call_fetch(s, cursor).await?.map(Into::into).map_err(Into::into)),
            Channel::V0_4_0(c) => c.call_fetch(s, cursor).await,
            Channel::V0_5_0(c) => c.call_fetch(s, cursor).await,
            Channel::V0_6_0(c) => c.call_fetch(s, cursor).await,
            Channel::V0_7_0(c) => c.call_fetch(s, cursor).await,
        }
    }

    pub async fn handle_webhook(&self, s: &mut Store<HostState>, req: &wit::HttpRequest) -> Outcome<wit::WebhookOutcome> {
        match self {
            Channel::V0_1_0(c) => {
                let req = since_v0_1_0::request(&path_only(req));
                Ok(c.call_handle_webhook(s, &req).await?.map(Into::into).map_err(Into::into))
            }
            Channel::V0_2_0(c) => Ok(c.call_handle_webhook(s, &path_only(req).into()).await?.map(Into::into).map_err(Into::into)),
            Channel::V0_3_0(c) => Ok(c.call_handle_webhook(s, &path_only(req).into()).await?.map(Into::into).map_err(Into::into)),
            Channel::V0_4_0(c) => c.call_handle_webhook(s, &path_only(req)).await,
            Channel::V0_5_0(c) => c.call_handle_webhook(s, req).await,
            Channel::V0_6_0(c) => c.call_handle_webhook(s, req).await,
            Channel::V0_7_0(c) => c.call_handle_webhook(s, req).await,
        }
    }

    pub async fn perform(&self, s: &mut Store<HostState>, target: &wit::Target, action: &wit::Action) -> Outcome<wit::ActionOutcome> {
        match self {
            Channel::V0_1_0(c) => {
                let Some(action) = since_v0_1_0::action(action) else {
                    return Ok(Err(wit::ChannelError::Unsupported("contract 0.1.0 has no such action".into())));
                };
                let target = since_v0_1_0::target(target);
                Ok(c.call_perform(s, &target, &action).await?.map(Into::into).map_err(Into::into))
            }
            Channel::V0_2_0(_) | Channel::V0_3_0(_) => {
                let Some(old_action) = since_v0_2_0::action(action) else {
                    return Ok(Err(wit::ChannelError::Unsupported(format!("contract {} has no such action", self.version()))));
                };
                let old_target = since_v0_2_0::target(target);
                let outcome = match self {
                    Channel::V0_2_0(c) => c.call_perform(s, &old_target, &old_action).await?,
                    Channel::V0_3_0(c) => c.call_perform(s, &old_target, &old_action).await?,
                    _ => unreachable!(),
                };
                Ok(outcome.map(Into::into).map_err(Into::into))
            }
            Channel::V0_4_0(c) => c.call_perform(s, target, action).await,
            Channel::V0_5_0(c) => c.call_perform(s, target, action).await,
            Channel::V0_6_0(c) => c.call_perform(s, target, action).await,
            Channel::V0_7_0(c) => c.call_perform(s, target, action).await,
        }
    }

    /// Before 0.3.0 there was no `media`: an attachment with a URL is fetched from it as it is.
    pub async fn media(&self, s: &mut Store<HostState>, target: &wit::Target, attachment: &wit::Attachment) -> Outcome<wit::HttpRequest> {
        match self {
            Channel::V0_4_0(c) => c.call_media(s, target, attachment).await,
            Channel::V0_5_0(c) => c.call_media(s, target, attachment).await,
            Channel::V0_6_0(c) => c.call_media(s, target, attachment).await,
            Channel::V0_7_0(c) => c.call_media(s, target, attachment).await,
            Channel::V0_3_0(c) => {
                let (target, attachment) = (since_v0_2_0::target(target), attachment.clone().into());
                Ok(c.call_media(s, &target, &attachment).await?.map(Into::into).map_err(Into::into))
            }
            Channel::V0_1_0(_) | Channel::V0_2_0(_) => Ok(match attachment.url.as_deref().filter(|u| u.starts_with("https://") || u.starts_with("http://")) {
                Some(url) => Ok(wit::HttpRequest { method: "GET".into(), url: url.into(), headers: Vec::new(), body: Vec::new() }),
                None => Err(wit::ChannelError::Unsupported(format!("this plugin was built against contract {}, which cannot download files", self.version()))),
            }),
        }
    }

    /// Before 0.5.0 there was no `reply-note`: nothing to say.
    pub async fn reply_note(&self, s: &mut Store<HostState>, target: &wit::Target, text: &str) -> wasmtime::Result<Option<String>> {
        match self {
            Channel::V0_5_0(c) => c.call_reply_note(s, target, text).await,
            Channel::V0_6_0(c) => c.call_reply_note(s, target, text).await,
            Channel::V0_7_0(c) => c.call_reply_note(s, target, text).await,
            _ => Ok(None),
        }
    }

    /// Before 0.6.0 there were no files in replies: none anywhere.
    pub async fn file_capabilities(&self, s: &mut Store<HostState>) -> wasmtime::Result<Vec<files::FileCapability>> {
        match self {
            Channel::V0_6_0(c) => c.call_file_capabilities(s).await,
            Channel::V0_7_0(c) => c.call_file_capabilities(s).await,
            _ => Ok(Vec::new()),
        }
    }

    pub async fn send_files(
        &self,
        s: &mut Store<HostState>,
        target: &wit::Target,
        reply: &wit::Reply,
        private: bool,
        files: &[files::OutgoingFile],
    ) -> Outcome<wit::ActionOutcome> {
        match self {
            Channel::V0_6_0(c) => c.call_send_files(s, target, reply, private, files).await,
            Channel::V0_7_0(c) => c.call_send_files(s, target, reply, private, files).await,
            _ => Ok(Err(wit::ChannelError::Unsupported(format!("this plugin was built against contract {}, which cannot send files", self.version())))),
        }
    }

    fn version(&self) -> ContractVersion {
        match self {
            Channel::V0_1_0(_) => ContractVersion::V0_1_0,
            Channel::V0_2_0(_) => ContractVersion::V0_2_0,
            Channel::V0_3_0(_) => ContractVersion::V0_3_0,
            Channel::V0_4_0(_) => ContractVersion::V0_4_0,
            Channel::V0_5_0(_) => ContractVersion::V0_5_0,
            Channel::V0_6_0(_) => ContractVersion::V0_6_0,
            Channel::V0_7_0(_) => ContractVersion::V0_7_0,
        }
    }
}

/// A webhook delivery as versions before 0.5.0 take it: the path and query only.
fn path_only(req: &wit::HttpRequest) -> wit::HttpRequest {
    let url = match req.url.strip_prefix("https://").or_else(|| req.url.strip_prefix("http://")) {
        Some(rest) => match rest.find(['/', '?']) {
            Some(i) if rest[i..].starts_with('/') => rest[i..].to_string(),
            Some(i) => format!("/{}", &rest[i..]),
            None => "/".into(),
        },
        None => req.url.clone(),
    };
    wit::HttpRequest { url, ..req.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(u: &str) -> String {
        path_only(&wit::HttpRequest { method: "POST".into(), url: u.into(), headers: Vec::new(), body: Vec::new() }).url
    }

    #[test]
    fn plugins_before_0_5_0_get_the_path_and_query_they_were_promised() {
        assert_eq!(url("https://help.example.com/webhooks/sms?a=1"), "/webhooks/sms?a=1");
        assert_eq!(url("http://127.0.0.1:8080/webhooks/sms"), "/webhooks/sms");
        assert_eq!(url("https://help.example.com?x=1"), "/?x=1");
        assert_eq!(url("/webhooks/x?u=https://a.example/b"), "/webhooks/x?u=https://a.example/b");
    }
}
