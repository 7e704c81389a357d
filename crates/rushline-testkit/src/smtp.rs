//! A small SMTP server that accepts every message and keeps it, so that tests exercise the real
//! SMTP mailer over a real connection instead of a mock of it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// A message as the server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The envelope sender (`MAIL FROM`).
    pub from: String,
    /// The envelope recipients (`RCPT TO`).
    pub to: Vec<String>,
    /// Headers and body, dot-unstuffed, lines joined with `\n`.
    pub data: String,
}

/// Speaks enough SMTP (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for lettre to deliver.
///
/// [`SmtpServer::stall`] makes it a server that accepts and then goes silent, the failure a
/// timeout on connecting cannot see.
pub struct SmtpServer {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<ReceivedMail>>>,
    stalled: Arc<AtomicBool>,
    stop: CancellationToken,
}

/// What every session shares with the server.
#[derive(Clone)]
struct Shared {
    inbox: Arc<Mutex<Vec<ReceivedMail>>>,
    stalled: Arc<AtomicBool>,
}

impl Shared {
    /// Never returns while the server is stalled: the session that asks goes silent for good,
    /// as one whose server hung would, and its client sees nothing, neither answer nor close.
    async fn answer_unless_stalled(&self) {
        if self.stalled.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
    }
}

impl SmtpServer {
    /// Listens on 127.0.0.1 at a free port until dropped.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind SMTP");
        let addr = listener.local_addr().expect("SMTP address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let stalled = Arc::new(AtomicBool::new(false));
        let stop = CancellationToken::new();
        let shared = Shared {
            inbox: received.clone(),
            stalled: stalled.clone(),
        };
        let stopped = stop.clone();
        tokio::spawn(async move {
            loop {
                let socket = tokio::select! {
                    () = stopped.cancelled() => return,
                    accepted = listener.accept() => match accepted {
                        Ok((socket, _)) => socket,
                        Err(_) => continue,
                    },
                };
                let (shared, stopped) = (shared.clone(), stopped.clone());
                tokio::spawn(async move {
                    tokio::select! {
                        () = stopped.cancelled() => {}
                        _ = session(socket, shared) => {}
                    }
                });
            }
        });
        Self {
            addr,
            received,
            stalled,
            stop,
        }
    }

    /// From now until [`SmtpServer::resume`], connections are accepted and never answered, and
    /// open ones fall silent at their next reply, for good: the server a job's deadline is for.
    pub fn stall(&self) {
        self.stalled.store(true, Ordering::SeqCst);
    }

    /// New connections are served again; those that fell silent stay silent.
    pub fn resume(&self) {
        self.stalled.store(false, Ordering::SeqCst);
    }

    /// `smtp://127.0.0.1:<port>`: plain SMTP, for `mail.smtp_url`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    pub fn received(&self) -> Vec<ReceivedMail> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn session(socket: TcpStream, shared: Shared) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    shared.answer_unless_stalled().await;
    write.write_all(b"220 rushline-testkit ESMTP\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    while let Some(line) = lines.next_line().await? {
        shared.answer_unless_stalled().await;
        let verb = line.get(..4).unwrap_or(&line).to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" | "HELO" => b"250 rushline-testkit\r\n",
            "MAIL" => {
                from = angle_address(&line);
                to.clear();
                b"250 OK\r\n"
            }
            "RCPT" => {
                to.push(angle_address(&line));
                b"250 OK\r\n"
            }
            "DATA" => {
                write
                    .write_all(b"354 end with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let mut data = Vec::new();
                while let Some(line) = lines.next_line().await? {
                    if line == "." {
                        break;
                    }
                    data.push(line.strip_prefix('.').map_or(line.clone(), str::to_owned));
                }
                shared.answer_unless_stalled().await;
                shared.inbox.lock().unwrap().push(ReceivedMail {
                    from: from.clone(),
                    to: std::mem::take(&mut to),
                    data: data.join("\n"),
                });
                b"250 OK queued\r\n"
            }
            "RSET" => {
                from.clear();
                to.clear();
                b"250 OK\r\n"
            }
            "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 command not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
    Ok(())
}

/// `MAIL FROM:<a@example.com> SIZE=…` → `a@example.com`.
fn angle_address(line: &str) -> String {
    line.split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map_or_else(String::new, |(address, _)| address.to_owned())
}
