//! A command plugin that exercises `fs`, `watch`, `kv` and `events` through the PDK, for the host's
//! end-to-end capability tests. `run` takes a verb and its arguments and returns the
//! result as text, or `Err("CODE: message")` with the capability error's code.
//!
//! | args | does |
//! | --- | --- |
//! | `["noop"]` | nothing (no host call), `""` |
//! | `["log", MESSAGE]` | logs MESSAGE at info, `""` |
//! | `["kv-get", K]` | the value as text, or `"<none>"` |
//! | `["kv-set", K, V]` / `["kv-set-n", K, N]` | stores V / N bytes of `x` |
//! | `["kv-delete", K]` / `["kv-list", PREFIX, LIMIT]` / `["kv-inc", K, DELTA]` | |
//! | `["fs-list", DIR, PATH]` | entry names joined with `,` |
//! | `["fs-read", DIR, PATH]` / `["fs-write", DIR, PATH, TEXT]` / `["fs-meta", DIR, PATH]` | |
//! | `["std-read", PATH]` / `["std-write", PATH, TEXT]` | `std::fs` through the WASI preopens |
//! | `["watch", DIR[,DIR...], MS]` / `["unwatch", ID]` | subscription id / `ok` |
//! | `["publish", CHANNEL, PAYLOAD]` / `["publish-n", CHANNEL, N]` | publishes once / N times |

use plinth_pdk::prelude::*;

struct Caps;

impl Plugin for Caps {}

fn code<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

fn num<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    s.parse().map_err(|_| format!("`{s}` is not a number"))
}

impl Command for Caps {
    fn run(args: Vec<String>) -> Result<String, String> {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        match args.as_slice() {
            ["kv-get", k] => Ok(kv::get_string(k).map_err(code)?.unwrap_or("<none>".into())),
            ["kv-set", k, v] => kv::set(k, v).map(|()| "ok".into()).map_err(code),
            ["kv-set-n", k, n] => kv::set(k, vec![b'x'; num(n)?])
                .map(|()| "ok".into())
                .map_err(code),
            ["kv-delete", k] => kv::delete(k).map(|b| b.to_string()).map_err(code),
            ["kv-list", prefix, limit] => kv::list_keys(prefix, num(limit)?)
                .map(|keys| keys.join(","))
                .map_err(code),
            ["kv-inc", k, delta] => kv::increment(k, num(delta)?)
                .map(|n| n.to_string())
                .map_err(code),
            ["noop"] => Ok(String::new()),
            ["log", message] => {
                log::info(message);
                Ok(String::new())
            }
            ["fs-list", dir, path] => fs::list_dir(dir, path)
                .map(|entries| {
                    entries
                        .iter()
                        .map(|e| e.name.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .map_err(code),
            ["fs-read", dir, path] => fs::read_to_string(dir, path).map_err(code),
            ["fs-write", dir, path, text] => {
                fs::write(dir, path, text).map(|()| "ok".into()).map_err(code)
            }
            ["fs-meta", dir, path] => fs::read_metadata(dir, path)
                .map(|m| format!("{:?} {}", m.kind, m.size))
                .map_err(code),
            ["std-read", path] => std::fs::read_to_string(path).map_err(code),
            ["std-write", path, text] => std::fs::write(path, text)
                .map(|()| "ok".into())
                .map_err(code),
            ["publish", channel, payload] => events::publish(channel, payload)
                .map(|()| "ok".into())
                .map_err(code),
            ["publish-n", channel, n] => {
                for i in 0..num::<u32>(n)? {
                    events::publish(channel, i.to_string())
                        .map_err(|e| format!("publish {i}: {e}"))?;
                }
                Ok("ok".into())
            }
            ["watch", dirs, ms] => {
                let dirs: Vec<&str> = dirs.split(',').collect();
                watch::subscribe(&dirs, num(ms)?)
                    .map(|id| id.to_string())
                    .map_err(code)
            }
            ["unwatch", id] => {
                watch::unsubscribe(num(id)?);
                Ok("ok".into())
            }
            _ => Err(format!("unknown verb or wrong arguments: {args:?}")),
        }
    }
}

plinth_pdk::export_command!(Caps);
