//! A real PostgreSQL server for tests (the sockets tests, `examples/embed-thoth`): a fresh cluster in a temporary folder,
//! listening on 127.0.0.1 on a free port (and on a Unix socket in the folder, for the
//! tests' own set-up), with every connection logged. Stopped when dropped.
//!
//! The binaries come from Debian's `postgresql` package (`/usr/lib/postgresql/*/bin`;
//! `scripts/install-postgres` installs it). PostgreSQL refuses to run as root, so as root
//! the server runs as the `postgres` user the package creates.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The user every test connects as (SCRAM over TCP).
pub const USER: &str = "plinth";
/// [`USER`]'s password.
pub const PASSWORD: &str = "s3cret-pw";

/// A running server in a temporary folder; stopped and removed when dropped.
#[derive(Debug)]
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// Run the server's programs as this user (when the tests run as root).
    run_as: Option<String>,
    /// Marker connections [`Postgres::tcp_connections`] made so far (never counted).
    markers: std::sync::atomic::AtomicUsize,
    /// The TCP port on 127.0.0.1.
    pub port: u16,
}

/// The newest `/usr/lib/postgresql/*/bin` that has `initdb`.
fn binaries() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is not installed: run scripts/install-postgres")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found
        .pop()
        .map(|(_, bin)| bin)
        .expect("no /usr/lib/postgresql/*/bin/initdb: run scripts/install-postgres")
}

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().expect("id -u");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

fn id_of(user: &str, flag: &str) -> u32 {
    let out = Command::new("id").args([flag, user]).output().expect("id");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("no user {user} (it comes with Debian's postgresql)"))
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

impl Postgres {
    /// Starts a server and waits until it accepts connections.
    pub fn start() -> Postgres {
        Postgres::start_with(None)
    }

    /// Starts a server that takes TCP connections over TLS only (`hostssl` in
    /// `pg_hba.conf`: a plain TCP connection is refused), with the PEM certificate chain
    /// `cert` and its private key `key`.
    pub fn start_tls(cert: &str, key: &str) -> Postgres {
        Postgres::start_with(Some((cert, key)))
    }

    fn start_with(tls: Option<(&str, &str)>) -> Postgres {
        let bin = binaries();
        let dir = tempfile::Builder::new()
            .prefix("plinth-pg")
            .tempdir()
            .unwrap();
        let run_as = is_root().then(|| "postgres".to_string());
        let pg = Postgres {
            dir,
            bin,
            run_as,
            markers: std::sync::atomic::AtomicUsize::new(0),
            port: free_port(),
        };
        std::fs::write(pg.path("pwfile"), PASSWORD).unwrap();
        if pg.run_as.is_some() {
            let (uid, gid) = (id_of("postgres", "-u"), id_of("postgres", "-g"));
            for path in [pg.dir.path().to_path_buf(), pg.path("pwfile")] {
                std::os::unix::fs::chown(&path, Some(uid), Some(gid)).unwrap();
            }
        }
        let data = pg.path("data");
        let pwfile = pg.path("pwfile");
        pg.run_ok(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                USER.as_ref(),
                "--pwfile".as_ref(),
                pwfile.as_os_str(),
                "--auth-local=trust".as_ref(),
                "--auth-host=scram-sha-256".as_ref(),
                "--no-sync".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
            ],
        );
        let mut options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c log_connections=on -c fsync=off",
            pg.port,
            pg.dir.path().display()
        );
        if let Some((cert, key)) = tls {
            use std::os::unix::fs::PermissionsExt;
            let (cert_path, key_path) = (pg.path("server.crt"), pg.path("server.key"));
            std::fs::write(&cert_path, cert).unwrap();
            std::fs::write(&key_path, key).unwrap();
            // The server reads its key only when no one else can.
            std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600)).unwrap();
            if pg.run_as.is_some() {
                let (uid, gid) = (id_of("postgres", "-u"), id_of("postgres", "-g"));
                for path in [&cert_path, &key_path] {
                    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
                }
            }
            // TCP over TLS only; the Unix socket (the tests' own set-up) stays as it is.
            let hba = data.join("pg_hba.conf");
            let rules: String = std::fs::read_to_string(&hba)
                .unwrap()
                .lines()
                .map(|line| match line.strip_prefix("host ") {
                    Some(rest) => format!("hostssl {rest}\n"),
                    None => format!("{line}\n"),
                })
                .collect();
            std::fs::write(&hba, rules).unwrap();
            options.push_str(&format!(
                " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                cert_path.display(),
                key_path.display()
            ));
        }
        let log = pg.path("server.log");
        pg.run_ok(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-o".as_ref(),
                options.as_ref(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
                "start".as_ref(),
            ],
        );
        pg.wait_ready();
        pg
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        let mut command = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(program);
                c
            }
            None => Command::new(program),
        };
        command
            .current_dir(self.dir.path())
            .env("PGPASSWORD", PASSWORD);
        command
    }

    /// `-h HOST -p PORT -U USER -d postgres`: how the client tools reach the server.
    fn reach<'a>(host: &'a std::ffi::OsStr, port: &'a str) -> [&'a std::ffi::OsStr; 8] {
        [
            "-h".as_ref(),
            host,
            "-p".as_ref(),
            port.as_ref(),
            "-U".as_ref(),
            USER.as_ref(),
            "-d".as_ref(),
            "postgres".as_ref(),
        ]
    }

    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) -> Output {
        self.command(program).args(args).output().unwrap()
    }

    fn run_ok(&self, program: &str, args: &[&std::ffi::OsStr]) -> String {
        let out = self.run(program, args);
        assert!(
            out.status.success(),
            "{program} failed: {}\n{}\nserver log:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.path("server.log")).unwrap_or_default()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls `pg_isready` on the Unix socket until the server accepts connections.
    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let port = self.port.to_string();
        let socket_dir = self.dir.path().as_os_str();
        loop {
            let out = self.run("pg_isready", &Self::reach(socket_dir, &port));
            if out.status.success() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "PostgreSQL did not start in 60 s"
            );
        }
    }

    /// Runs `sql` through `psql` over `host` (the Unix socket folder, or `127.0.0.1`) and
    /// returns its unaligned output.
    fn psql_over(&self, host: &std::ffi::OsStr, sql: &str) -> String {
        let port = self.port.to_string();
        let mut args = vec!["-X".as_ref()];
        args.extend(Self::reach(host, &port));
        args.extend::<[&std::ffi::OsStr; 5]>([
            "-v".as_ref(),
            "ON_ERROR_STOP=1".as_ref(),
            "-At".as_ref(),
            "-c".as_ref(),
            sql.as_ref(),
        ]);
        self.run_ok("psql", &args)
    }

    /// Runs `sql` as the test's own set-up, over the Unix socket (not counted as a TCP
    /// connection).
    pub fn psql(&self, sql: &str) -> String {
        self.psql_over(self.dir.path().as_os_str(), sql)
    }

    /// TCP connections the server has received so far, counted after a marker connection
    /// of the test's own has shown up in the log: everything that connected before the
    /// marker is in the count. The markers (this call's and earlier calls') are not
    /// counted, so two counts can be compared.
    pub fn tcp_connections(&self) -> usize {
        let before = self.tcp_lines();
        let markers = self
            .markers
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        self.psql_over("127.0.0.1".as_ref(), "select 1");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let now = self.tcp_lines();
            if now > before {
                return now - markers;
            }
            assert!(
                Instant::now() < deadline,
                "the marker connection was not logged"
            );
        }
    }

    fn tcp_lines(&self) -> usize {
        let log = std::fs::read_to_string(self.path("server.log")).unwrap_or_default();
        log.lines()
            .filter(|l| l.contains("connection received: host=127.0.0.1"))
            .count()
    }

    /// The server's folder (data, socket and `server.log`).
    pub fn log_path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.path("data");
        let _ = self.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-m".as_ref(),
                "immediate".as_ref(),
                "-w".as_ref(),
                "stop".as_ref(),
            ],
        );
    }
}
