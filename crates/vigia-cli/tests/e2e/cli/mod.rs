//! The `vigia` binary as an administrator uses it.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

mod admin;
mod audit;
mod backups;
mod crash;
mod demo;
mod processes;
mod reports;
mod requests;
mod sources;

const BIN: &str = env!("CARGO_BIN_EXE_vigia");

pub(crate) fn vigia() -> Command {
    let mut c = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("VIGIA_") {
            c.env_remove(k);
        }
    }
    c.stdin(Stdio::null());
    c
}

pub(crate) fn run(dir: &Path, args: &[&str]) -> Output {
    vigia().args(args).arg("--data-dir").arg(dir).output().expect("run vigia")
}

pub(crate) fn run_with_stdin(dir: &Path, args: &[&str], input: &str) -> Output {
    let mut child = vigia()
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write");
    child.wait_with_output().expect("wait")
}

pub(crate) fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> TempDir {
        let p =
            std::env::temp_dir().join(format!("vigia_cli_{tag}_{}_{}", std::process::id(), vigia_store::now_micros()));
        std::fs::create_dir_all(&p).expect("mkdir");
        TempDir(p)
    }
    pub(crate) fn data(&self) -> PathBuf {
        self.0.join("data")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A `vigia serve` or `vigia demo` process, killed when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
}

impl Server {
    pub(crate) fn start(cmd: &str, dir: &Path) -> Server {
        Self::start_with(cmd, dir, &[])
    }

    fn start_with(cmd: &str, dir: &Path, extra: &[&str]) -> Server {
        Self::start_from(vigia(), cmd, dir, extra)
    }

    /// As [`Server::start_with`], from a command already holding its environment.
    fn start_from(mut command: Command, cmd: &str, dir: &Path, extra: &[&str]) -> Server {
        let mut child = command
            .args([cmd, "--bind", "127.0.0.1:0", "--data-dir"])
            .arg(dir)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn server");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            let line = lines.next().expect("server printed its address").expect("line");
            if let Some(rest) = line.split("serving on ").nth(1) {
                break rest.split_whitespace().next().expect("url").trim_end_matches('/').to_string();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Server { child, base }
    }
}

impl Server {
    /// `GET path` on this server with a Bearer token; the JSON answered.
    pub(crate) async fn get_json(&self, token: &str, path: &str) -> Value {
        let r = reqwest::Client::new().get(format!("{}{path}", self.base)).bearer_auth(token).send().await;
        r.expect("get").json().await.expect("json")
    }

    /// `POST path` on this server with a Bearer token and a JSON body; the JSON answered.
    pub(crate) async fn post_json(&self, token: &str, path: &str, body: &Value) -> Value {
        let r = reqwest::Client::new().post(format!("{}{path}", self.base)).bearer_auth(token).json(body).send().await;
        r.expect("post").json().await.expect("json")
    }
}

impl Server {
    /// Kills the process with SIGKILL and waits for it.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn init(dir: &Path) {
    let o = run_with_stdin(
        dir,
        &["init", "--org-slug", "defensoria", "--org-name", "Defensoría", "--admin-email", "admin@d.org"],
        "una clave larga de prueba\n",
    );
    assert!(o.status.success(), "{:?}", text(&o));
}

/// [`init`] on the database `db_args` name (none: the data dir's SQLite), and an API
/// token for its admin.
pub(crate) fn init_with_token(dir: &Path, db_args: &[&str]) -> String {
    let o = run_with_stdin(
        dir,
        &[
            &["init", "--org-slug", "defensoria", "--org-name", "Defensoría", "--admin-email", "admin@d.org"][..],
            db_args,
        ]
        .concat(),
        "una clave larga de prueba\n",
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let o = run(dir, &[&["token", "create", "--user", "admin@d.org"][..], db_args].concat());
    let token = text(&o).0.trim().to_string();
    assert!(token.starts_with("vga_"), "{:?}", text(&o));
    token
}

/// Opens a data dir's store the way the server would.
pub(crate) async fn open_dir(dir: &Path) -> vigia_store::DynStore {
    let keys = vigia_store::keyfile::load(dir).expect("key");
    vigia_store::open(&vigia_store::sqlite_url(&dir.join("vigia.db")), &keys).await.expect("open")
}
