//! Real mail servers on loopback for the email tests and the demo: Dovecot (IMAP, and LMTP
//! delivery into its Maildirs) and Postfix (SMTP with STARTTLS or TLS and AUTH through Dovecot,
//! delivering every test domain to Dovecot and bouncing unknown recipients with real DSNs), both
//! from Debian's packages (`./dev test` installs them), each instance in a directory of its own.

use anyhow::{bail, Context};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use crate::server::free_port;

/// The domains the servers keep mailboxes for: the brand's, its customers', its consultants'.
pub const DOMAINS: [&str; 3] = ["shop.test", "customer.test", "consult.test"];

/// A running Dovecot + Postfix pair.
pub struct MailServers {
    pub dir: tempfile::TempDir,
    pub imap_port: u16,
    pub imaps_port: u16,
    /// SMTP with STARTTLS (submission-style, AUTH after TLS).
    pub smtp_port: u16,
    /// SMTP over TLS from the first byte.
    pub smtps_port: u16,
    users: Vec<(String, String)>,
    dovecot: Child,
}

/// The binaries, or how to get them.
pub fn available() -> anyhow::Result<()> {
    for bin in ["/usr/sbin/dovecot", "/usr/sbin/postfix"] {
        if !Path::new(bin).exists() {
            bail!("{bin} is missing: install Debian's dovecot-imapd, dovecot-lmtpd and postfix (./dev test does)");
        }
    }
    Ok(())
}

impl MailServers {
    /// Start both with these mailboxes (`address`, `password`).
    pub fn start<U: AsRef<str>, P: AsRef<str>>(users: &[(U, P)]) -> anyhow::Result<Self> {
        available()?;
        let dir = tempfile::Builder::new().prefix("helpdesk-mail-").tempdir()?;
        let d = dir.path().to_path_buf();
        for sub in ["run", "state", "mail", "pf/queue", "pf/data"] {
            std::fs::create_dir_all(d.join(sub))?;
        }
        // Dovecot and Postfix reach into it as their own users.
        chmod(dir.path(), 0o755)?;
        // A CA of the test's own, and the servers' certificate signed by it (a self-signed
        // end-entity certificate is refused by webpki, rightly).
        std::fs::write(d.join("ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")?;
        let steps: [&[&str]; 3] = [
            &["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=helpdesk test mail CA", "-keyout", "ca.key", "-out", "ca.pem"],
            &["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "key.pem", "-out", "server.csr"],
            &["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "cert.pem"],
        ];
        for step in steps {
            let ok = Command::new("openssl").args(step).current_dir(&d).stdout(Stdio::null()).stderr(Stdio::null()).status()?;
            if !ok.success() {
                bail!("openssl could not make the servers' certificate (openssl {})", step.join(" "));
            }
        }
        chmod(&d.join("key.pem"), 0o644)?;
        let users: Vec<(String, String)> = users.iter().map(|(u, p)| (u.as_ref().to_string(), p.as_ref().to_string())).collect();
        let passwd: String = users.iter().map(|(u, p)| format!("{u}:{{PLAIN}}{p}\n")).collect();
        std::fs::write(d.join("users"), passwd)?;
        chown(&d.join("mail"), "nobody")?;
        let (imap_port, imaps_port, smtp_port, smtps_port) = (free_port(), free_port(), free_port(), free_port());
        let p = d.display();
        std::fs::write(d.join("dovecot.conf"), format!(r#"
base_dir = {p}/run
state_dir = {p}/state
log_path = {p}/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = yes
ssl_cert = <{p}/cert.pem
ssl_key = <{p}/key.pem
auth_mechanisms = plain login
default_internal_user = dovecot
default_login_user = dovenull
recipient_delimiter = +
lmtp_save_to_detail_mailbox = no
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {p}/users
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={p}/mail/%d/%n
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = {imaps_port}
    ssl = yes
  }}
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
}}
service auth {{
  unix_listener auth-client {{
    mode = 0666
  }}
}}
"#))?;
        let dovecot = Command::new("/usr/sbin/dovecot").arg("-F").arg("-c").arg(d.join("dovecot.conf"))
            .stdout(Stdio::null()).stderr(Stdio::null()).spawn().context("starting dovecot")?;
        std::fs::write(d.join("pf/main.cf"), format!(r#"
compatibility_level = 3.6
queue_directory = {p}/pf/queue
data_directory = {p}/pf/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.shop.test
mydomain = shop.test
myorigin = shop.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
virtual_mailbox_domains = {domains}
virtual_transport = lmtp:unix:{p}/run/lmtp
smtpd_tls_cert_file = {p}/cert.pem
smtpd_tls_key_file = {p}/key.pem
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {p}/run/auth-client
smtpd_sasl_auth_enable = yes
smtpd_relay_restrictions = permit_sasl_authenticated, permit_mynetworks, reject_unauth_destination
maillog_file = {p}/pf/maillog
maillog_file_prefixes = {p}
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtputf8_enable = no
message_size_limit = 52428800
"#, domains = DOMAINS.join(" ")))?;
        let services = [
            "pickup unix n - n 60 1 pickup", "cleanup unix n - n - 0 cleanup", "qmgr unix n - n 300 1 qmgr",
            "rewrite unix - - n - - trivial-rewrite", "bounce unix - - n - 0 bounce", "defer unix - - n - 0 bounce",
            "trace unix - - n - 0 bounce", "verify unix - - n - 1 verify", "flush unix n - n 1000? 0 flush",
            "proxymap unix - - n - - proxymap", "smtp unix - - n - - smtp", "relay unix - - n - - smtp",
            "showq unix n - n - - showq", "error unix - - n - - error", "retry unix - - n - - error",
            "discard unix - - n - - discard", "lmtp unix - - n - - lmtp", "anvil unix - - n - 1 anvil",
            "scache unix - - n - 1 scache", "postlog unix-dgram n - n - 1 postlogd", "tlsmgr unix - - n 1000? 1 tlsmgr",
        ];
        let master = format!("{smtp_port} inet n - n - - smtpd\n{smtps_port} inet n - n - - smtpd -o smtpd_tls_wrappermode=yes\n{}\n", services.join("\n"));
        std::fs::write(d.join("pf/master.cf"), master)?;
        chown(&d.join("pf/data"), "postfix")?;
        let started = Command::new("/usr/sbin/postfix").arg("-c").arg(d.join("pf")).arg("start")
            .stdout(Stdio::null()).stderr(Stdio::null()).status()?;
        let servers = MailServers { dir, imap_port, imaps_port, smtp_port, smtps_port, users, dovecot };
        if !started.success() {
            bail!("postfix did not start: {}", servers.log());
        }
        for port in [imap_port, imaps_port, smtp_port, smtps_port] {
            wait_for(port).with_context(|| format!("the mail servers did not listen: {}", servers.log()))?;
        }
        Ok(servers)
    }

    /// An email channel of `address` (a mailbox here) in `plugins.toml`.
    pub fn channel_toml(&self, id: &str, address: &str) -> String {
        format!(
            "\n[[channel]]\nid = \"{id}\"\nplugin = \"email\"\ndisplay_name = \"Email {id}\"\n\
             allowed_hosts = [\"imaps://127.0.0.1:{imaps}\", \"smtp://127.0.0.1:{smtp}\"]\n\
             [channel.config]\naddress = \"{address}\"\nimap_server = \"imaps://127.0.0.1:{imaps}\"\nsmtp_server = \"smtp://127.0.0.1:{smtp}\"\n\
             display_name = \"Shop support\"\npoll_seconds = \"1\"\n[channel.secrets]\npassword = \"{password}\"\n",
            imaps = self.imaps_port,
            smtp = self.smtp_port,
            password = self.password(address),
        )
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The CA of the certificate both servers present, for the clients to trust.
    pub fn ca_file(&self) -> PathBuf {
        self.path().join("ca.pem")
    }

    /// What the servers logged, for a failure's message.
    pub fn log(&self) -> String {
        let read = |p: &str| std::fs::read_to_string(self.path().join(p)).unwrap_or_default();
        format!("{}\n{}", read("dovecot.log"), read("pf/maillog"))
    }

    fn password(&self, user: &str) -> String {
        self.users.iter().find(|(u, _)| u == user).map(|(_, p)| p.clone()).unwrap_or_default()
    }

    /// Send `raw` (a whole RFC 5322 message) as `from`, signed in as them, over STARTTLS.
    pub async fn send(&self, from: &str, to: &[&str], raw: &[u8]) -> anyhow::Result<()> {
        self.send_via(from, from, to, raw).await
    }

    /// Send as `from` (the envelope sender), signed in as `login` (a mailbox of these servers):
    /// for senders who have no mailbox here.
    pub async fn send_via(&self, login: &str, from: &str, to: &[&str], raw: &[u8]) -> anyhow::Result<()> {
        let pem = std::fs::read(self.ca_file())?;
        let tls = TlsParameters::builder("localhost".into()).add_root_certificate(Certificate::from_pem(&pem)?).build_rustls()?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(self.smtp_port)
            .tls(Tls::Required(tls))
            .credentials(Credentials::new(login.into(), self.password(login)))
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let envelope = Envelope::new(Some(from.parse()?), to.iter().map(|t| t.parse()).collect::<Result<_, _>>()?)?;
        transport.send_raw(&envelope, raw).await?;
        Ok(())
    }

    /// Send, over SMTP, every `*.eml` file that appears in `dir` for as long as the servers run:
    /// for tests in another language (the browser's), which write a file whose first line is
    /// `login from to` and the rest the message. Each file is removed once sent.
    pub fn serve_outbox(self: &std::sync::Arc<Self>, dir: PathBuf) -> tokio::task::JoinHandle<()> {
        let me = std::sync::Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let Some(servers) = me.upgrade() else { return };
                let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).into_iter().flatten().flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "eml")).collect();
                files.sort();
                for f in files {
                    let Ok(bytes) = std::fs::read(&f) else { continue };
                    let _ = std::fs::remove_file(&f);
                    let text = String::from_utf8_lossy(&bytes);
                    let Some((head, raw)) = text.split_once('\n') else { continue };
                    let parts: Vec<&str> = head.split_whitespace().collect();
                    if let [login, from, to] = parts[..] {
                        if let Err(e) = servers.send_via(login, from, &[to], raw.as_bytes()).await {
                            eprintln!("the outbox could not send {}: {e}", f.display());
                        }
                    }
                }
            }
        })
    }

    /// Every message delivered to `user` (`name@domain`), oldest first, as stored.
    pub fn mailbox(&self, user: &str) -> Vec<Vec<u8>> {
        let (name, domain) = user.split_once('@').unwrap_or((user, ""));
        let base = self.path().join("mail").join(domain).join(name).join("Maildir");
        let mut files: Vec<(std::time::SystemTime, String, PathBuf)> = ["new", "cur"]
            .iter()
            .flat_map(|sub| std::fs::read_dir(base.join(sub)).into_iter().flatten().flatten())
            .map(|e| (e.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH), e.file_name().to_string_lossy().into_owned(), e.path()))
            .collect();
        files.sort();
        files.into_iter().filter_map(|(_, _, p)| std::fs::read(p).ok()).collect()
    }

    /// Wait until `user` has at least `n` messages.
    pub async fn wait_for_mail(&self, user: &str, n: usize, within: Duration) -> anyhow::Result<Vec<Vec<u8>>> {
        let until = std::time::Instant::now() + within;
        loop {
            let got = self.mailbox(user);
            if got.len() >= n {
                return Ok(got);
            }
            if std::time::Instant::now() > until {
                bail!("{user} has {} messages, not {n}, after {within:?}: {}", got.len(), self.log());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for MailServers {
    fn drop(&mut self) {
        let _ = Command::new("/usr/sbin/postfix").arg("-c").arg(self.path().join("pf")).arg("abort")
            .stdout(Stdio::null()).stderr(Stdio::null()).status();
        let _ = self.dovecot.kill();
        let _ = self.dovecot.wait();
    }
}

fn wait_for(port: u16) -> anyhow::Result<()> {
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("nothing listens on port {port}")
}

fn chmod(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

fn chown(path: &Path, user: &str) -> anyhow::Result<()> {
    let ok = Command::new("chown").arg("-R").arg(user).arg(path).status()?;
    if !ok.success() {
        bail!("could not give {} to {user} (the mail servers run as root, as their packages do)", path.display());
    }
    Ok(())
}
