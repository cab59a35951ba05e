//! `helpdesk plugin new <dir>`: a plugin crate, anywhere, that builds to a component and
//! passes the conformance kit as it is: the Example channel (`plugins/examples/rust`) renamed,
//! its fixtures, and the SDK (this host's newest contract) beside it unless `--sdk` names one.

use anyhow::{bail, Context};
use rust_embed::Embed;
use std::path::{Path, PathBuf};

#[derive(Embed)]
#[folder = "../plugins/examples/"]
#[include = "rust/src/*.rs"]
#[include = "rust/Cargo.toml"]
#[include = "fixtures/*.json"]
struct Template;

#[derive(Embed)]
#[folder = "../plugins/sdk/src/"]
struct SdkSource;

#[derive(Embed)]
#[folder = "../plugins/sdk/wit/"]
struct SdkContract;

const SDK_MANIFEST: &str = include_str!("../../../plugins/sdk/Cargo.toml");
const WORKSPACE_MANIFEST: &str = include_str!("../../../Cargo.toml");

pub fn new_plugin(dir: &Path, sdk: Option<PathBuf>) -> anyhow::Result<()> {
    let name = dir.file_name().and_then(|n| n.to_str()).context("give the new plugin's directory, e.g. `helpdesk plugin new mastodon`")?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_') || !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        bail!("`{name}` cannot name a plugin: use lower-case letters, digits and `-`, starting with a letter");
    }
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        bail!("{} exists and is not empty", dir.display());
    }
    let camel: String = name.split(['-', '_']).map(|w| w[..1].to_ascii_uppercase() + &w[1..]).collect();
    let write = |rel: &str, text: &str| -> anyhow::Result<()> {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().expect("a file in the plugin"))?;
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    };
    let sdk_path = match sdk {
        Some(path) => path.canonicalize().with_context(|| format!("--sdk {}", path.display()))?.display().to_string(),
        None => {
            write_sdk(&dir.join("helpdesk-plugin-sdk"))?;
            "helpdesk-plugin-sdk".to_string()
        }
    };
    let text = |file: &str| -> String { String::from_utf8_lossy(&Template::get(file).expect("embedded template").data).into_owned() };
    let manifest = text("rust/Cargo.toml")
        .replace("name = \"example-channel\"", &format!("name = \"{name}\""))
        .replace("the Example platform", &format!("{camel}"))
        .replace("{ path = \"../../sdk\" }", &format!("{{ path = {sdk_path:?} }}"));
    // Its own workspace: it builds wherever it is, inside another workspace's tree or not.
    write("Cargo.toml", &format!("{manifest}\n[workspace]\n"))?;
    write("src/lib.rs", &text("rust/src/lib.rs").replace("Example", &camel).replace("\"example\".into()", &format!("\"{name}\".into()")))?;
    for file in Template::iter().filter(|f| f.starts_with("fixtures/")) {
        write(&file, &text(&file))?;
    }
    write(".gitignore", "/target\n")?;
    write("README.md", &readme(name))?;
    println!("created {} ({name}, contract helpdesk:channel@{})", dir.display(), crate::plugins::ContractVersion::LATEST);
    println!("next: cd {} && cargo build --release --target wasm32-wasip2 && helpdesk plugin test target/wasm32-wasip2/release/{}.wasm --fixtures fixtures", dir.display(), name.replace('-', "_"));
    Ok(())
}

/// The SDK as a crate of its own: its sources, its contract, and its manifest with the
/// workspace's shared versions written out.
fn write_sdk(dir: &Path) -> anyhow::Result<()> {
    for file in SdkSource::iter() {
        let path = dir.join("src").join(file.as_ref());
        std::fs::create_dir_all(path.parent().expect("a file"))?;
        std::fs::write(&path, SdkSource::get(&file).expect("embedded").data)?;
    }
    for file in SdkContract::iter() {
        std::fs::create_dir_all(dir.join("wit"))?;
        std::fs::write(dir.join("wit").join(file.as_ref()), SdkContract::get(&file).expect("embedded").data)?;
    }
    std::fs::write(dir.join("Cargo.toml"), standalone_sdk_manifest()?)?;
    Ok(())
}

fn standalone_sdk_manifest() -> anyhow::Result<String> {
    let workspace: toml::Table = WORKSPACE_MANIFEST.parse()?;
    let mut sdk: toml::Table = SDK_MANIFEST.parse()?;
    let shared_deps = workspace["workspace"]["dependencies"].as_table().cloned().unwrap_or_default();
    let shared_package = workspace["workspace"]["package"].as_table().cloned().unwrap_or_default();
    if let Some(package) = sdk.get_mut("package").and_then(|p| p.as_table_mut()) {
        package.remove("include");
        for (key, value) in package.iter_mut() {
            if value.get("workspace").and_then(|w| w.as_bool()) == Some(true) {
                *value = shared_package.get(key).cloned().with_context(|| format!("workspace.package.{key}"))?;
            }
        }
    }
    if let Some(deps) = sdk.get_mut("dependencies").and_then(|d| d.as_table_mut()) {
        for (key, value) in deps.iter_mut() {
            if value.get("workspace").and_then(|w| w.as_bool()) == Some(true) {
                *value = shared_deps.get(key).cloned().with_context(|| format!("workspace.dependencies.{key}"))?;
            }
        }
    }
    // No `[workspace]`: beside the plugin it is a member of the plugin's own workspace.
    Ok(toml::to_string(&sdk)?)
}

fn readme(name: &str) -> String {
    let wasm = name.replace('-', "_");
    format!(
        "# {name}: a helpdesk channel plugin\n\n\
         Built from the Example channel by `helpdesk plugin new`; change `src/lib.rs` and the\n\
         recorded exchanges in `fixtures/` to your platform's. The guide: docs/plugins.md in the\n\
         helpdesk repository.\n\n\
         ```sh\n\
         cargo test                                              # the logic, natively, with the SDK's fake host\n\
         cargo build --release --target wasm32-wasip2            # the component\n\
         helpdesk plugin test target/wasm32-wasip2/release/{wasm}.wasm --fixtures fixtures   # the conformance kit\n\
         helpdesk plugin run target/wasm32-wasip2/release/{wasm}.wasm --secret api_token=... check   # against the real platform\n\
         ```\n\n\
         Then copy the `.wasm` into the server's `plugin_dir` as `{name}.wasm` and add a `[[channel]]`\n\
         with `plugin = \"{name}\"` to `plugins.toml`.\n"
    )
}
