//! A real SMTP server on loopback for the email tests: it speaks enough of
//! RFC 5321 for any client (EHLO, MAIL, RCPT, DATA with dot-unstuffing,
//! RSET, NOOP, QUIT) and can be told how to answer, so the tests can make
//! the mail server refuse, fail for a while, fail for good, or stall.
//! A message counts as received only once the server has said 250 to it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufStream};
use tokio::net::{TcpListener, TcpStream};

/// What a session talks over: plain TCP, then TLS after STARTTLS.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// STARTTLS and a login the server insists on (the practice's mail provider).
#[derive(Clone)]
pub struct Secure {
    pub tls: Arc<rustls::ServerConfig>,
    /// TLS from the first byte (port 465) rather than after STARTTLS.
    pub implicit: bool,
    pub user: String,
    pub password: String,
}

/// How the server answers the end of a message (and whether it greets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 250: taken.
    Accept,
    /// 451: try again later.
    TempFail,
    /// 554: refused for good.
    PermFail,
    /// Accepts the connection and never says anything.
    Stall,
    /// Reads the whole message, then never answers it.
    StallAfterData,
}

#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
}

impl Received {
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.data)
            .expect("a parsable message")
    }
}

pub struct SmtpSink {
    pub addr: SocketAddr,
    mode: Arc<Mutex<Mode>>,
    received: Arc<Mutex<Vec<Received>>>,
    /// Messages whose end the server saw, whatever it answered.
    pub seen: Arc<Mutex<usize>>,
    /// Every message whose end the server saw (taken or not), in order.
    offered: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    pub async fn start(mode: Mode) -> SmtpSink {
        Self::start_on(0, mode).await
    }

    /// On a given port (to come back where a stopped server was).
    pub async fn start_on(port: u16, mode: Mode) -> SmtpSink {
        Self::start_with(port, mode, None).await
    }

    /// One that offers STARTTLS and accepts mail only over TLS after login.
    pub async fn start_with(port: u16, mode: Mode, secure: Option<Secure>) -> SmtpSink {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mode = Arc::new(Mutex::new(mode));
        let received = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::new(Mutex::new(0));
        let offered = Arc::new(Mutex::new(Vec::new()));
        let (m, r, s, o) = (
            mode.clone(),
            received.clone(),
            seen.clone(),
            offered.clone(),
        );
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let shared = Shared {
                    mode: m.clone(),
                    received: r.clone(),
                    seen: s.clone(),
                    offered: o.clone(),
                    secure: secure.clone(),
                };
                tokio::spawn(session(socket, shared));
            }
        });
        SmtpSink {
            addr,
            mode,
            received,
            seen,
            offered,
            task,
        }
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub fn offered(&self) -> Vec<Received> {
        self.offered.lock().unwrap().clone()
    }
}

impl Drop for SmtpSink {
    /// Stops listening (open sessions end with their clients).
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Shared {
    mode: Arc<Mutex<Mode>>,
    received: Arc<Mutex<Vec<Received>>>,
    seen: Arc<Mutex<usize>>,
    offered: Arc<Mutex<Vec<Received>>>,
    secure: Option<Secure>,
}

async fn session(socket: TcpStream, shared: Shared) {
    let current = || *shared.mode.lock().unwrap();
    if current() == Mode::Stall {
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        return;
    }
    let mut stream: BufStream<Box<dyn Io>> = BufStream::new(Box::new(socket));
    let mut encrypted = false;
    if let Some(s) = shared.secure.as_ref().filter(|s| s.implicit) {
        let acceptor = tokio_rustls::TlsAcceptor::from(s.tls.clone());
        match acceptor.accept(stream.into_inner()).await {
            Ok(tls) => stream = BufStream::new(Box::new(tls)),
            Err(_) => return,
        }
        encrypted = true;
    }
    async fn reply(s: &mut BufStream<Box<dyn Io>>, text: &str) -> bool {
        s.write_all(text.as_bytes()).await.is_ok() && s.flush().await.is_ok()
    }
    if !reply(&mut stream, "220 sink.test ESMTP ready\r\n").await {
        return;
    }
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut logged_in = false;
    let mut line = String::new();
    loop {
        line.clear();
        if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let upper = line.trim_end().to_ascii_uppercase();
        let secure = shared.secure.as_ref();
        let answer = if upper.starts_with("EHLO") {
            match secure {
                Some(_) if !encrypted => "250-sink.test\r\n250-8BITMIME\r\n250 STARTTLS\r\n".into(),
                Some(_) => {
                    "250-sink.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 AUTH PLAIN\r\n".into()
                }
                None => "250-sink.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
                    .to_string(),
            }
        } else if let Some(s) = secure.filter(|_| upper == "STARTTLS" && !encrypted) {
            if !reply(&mut stream, "220 2.0.0 ready to start TLS\r\n").await {
                return;
            }
            let acceptor = tokio_rustls::TlsAcceptor::from(s.tls.clone());
            match acceptor.accept(stream.into_inner()).await {
                Ok(tls) => stream = BufStream::new(Box::new(tls)),
                Err(_) => return,
            }
            encrypted = true;
            continue;
        } else if let Some(s) = secure.filter(|_| upper.starts_with("AUTH PLAIN")) {
            let given = line.trim_end()[10..].trim().to_string();
            let decoded = data_encoding::BASE64
                .decode(given.as_bytes())
                .unwrap_or_default();
            let parts: Vec<&[u8]> = decoded.split(|b| *b == 0).collect();
            if encrypted
                && parts.len() == 3
                && parts[1] == s.user.as_bytes()
                && parts[2] == s.password.as_bytes()
            {
                logged_in = true;
                "235 2.7.0 authenticated\r\n".into()
            } else {
                "535 5.7.8 authentication failed\r\n".into()
            }
        } else if upper.starts_with("HELO") {
            "250 sink.test\r\n".into()
        } else if upper.starts_with("MAIL FROM:") && secure.is_some() && !(encrypted && logged_in) {
            "530 5.7.0 must issue STARTTLS and authenticate first\r\n".into()
        } else if upper.starts_with("MAIL FROM:") {
            from = address(&line);
            to.clear();
            "250 OK\r\n".into()
        } else if upper.starts_with("RCPT TO:") {
            to.push(address(&line));
            "250 OK\r\n".into()
        } else if upper == "DATA" {
            if !reply(&mut stream, "354 end with <CRLF>.<CRLF>\r\n").await {
                return;
            }
            let mut data = Vec::new();
            loop {
                line.clear();
                if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                let l = line.strip_prefix('.').unwrap_or(&line);
                data.extend_from_slice(l.as_bytes());
            }
            *shared.seen.lock().unwrap() += 1;
            let message = Received {
                from: from.clone(),
                to: to.clone(),
                data,
            };
            shared.offered.lock().unwrap().push(message.clone());
            match current() {
                Mode::Accept => {
                    shared.received.lock().unwrap().push(message);
                    "250 OK: queued\r\n".into()
                }
                Mode::TempFail => "451 4.3.0 mailbox temporarily unavailable, try later\r\n".into(),
                Mode::PermFail => "554 5.7.1 message refused by policy\r\n".into(),
                Mode::Stall | Mode::StallAfterData => {
                    tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
                    return;
                }
            }
        } else if upper.starts_with("RSET") {
            from.clear();
            to.clear();
            "250 OK\r\n".into()
        } else if upper.starts_with("NOOP") {
            "250 OK\r\n".into()
        } else if upper.starts_with("QUIT") {
            let _ = reply(&mut stream, "221 bye\r\n").await;
            return;
        } else {
            "502 command not implemented\r\n".into()
        };
        if !reply(&mut stream, &answer).await {
            return;
        }
    }
}

/// `MAIL FROM:<a@b> SIZE=1` → `a@b`.
fn address(line: &str) -> String {
    line.split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(a, _)| a.to_string())
        .unwrap_or_default()
}
