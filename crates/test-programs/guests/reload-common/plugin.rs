// The reload guest, built twice (`reload-v1`, `reload-v2`) with a different `VERSION`, so
// tests can swap one component for the other and tell which build answered.
//
// `run` takes a verb:
//
// | args | returns |
// | --- | --- |
// | `["answer"]` | `"VERSION|alpha-VERSION|omega-VERSION"`: three fields one build fills |
// | `["version"]` | `VERSION` |
// | `["count"]` | how many times `count` ran in this instance (1 in a fresh instance) |
// | `["loads"]` | `{"loads": N, "changes": N, "settings": {...}}` of this instance |
// | `["config"]` | the settings through `plinth:host/config` |
// | `["panic"]` | traps (a Rust panic) |
//
// `on-load` traps when the settings hold `"trap_on_load": true`, and refuses them with an
// error when they hold `"refuse": true`. Every lifecycle call logs `VERSION: on-…`.

use std::sync::Mutex;

use plinth_pdk::prelude::*;

struct Counters {
    count: u32,
    loads: u32,
    changes: u32,
    settings: Option<Value>,
}

static COUNTERS: Mutex<Counters> = Mutex::new(Counters {
    count: 0,
    loads: 0,
    changes: 0,
    settings: None,
});

fn counters<T>(f: impl FnOnce(&mut Counters) -> T) -> T {
    let mut guard = COUNTERS.lock().unwrap_or_else(|p| p.into_inner());
    f(&mut guard)
}

struct Reload;

impl Plugin for Reload {
    fn on_load(settings: Settings) -> Result<(), String> {
        if settings.get("trap_on_load") == Some(&Value::Bool(true)) {
            panic!("{VERSION}: trap_on_load is set");
        }
        if settings.get("refuse") == Some(&Value::Bool(true)) {
            return Err(format!("{VERSION}: settings refused"));
        }
        log::info(format!("{VERSION}: on-load"));
        counters(|c| {
            c.loads += 1;
            c.settings = Some(Value::Object(settings.as_map().clone()));
        });
        Ok(())
    }

    fn on_setting_change(settings: Settings) -> Result<(), String> {
        log::info(format!("{VERSION}: on-setting-change"));
        counters(|c| {
            c.changes += 1;
            c.settings = Some(Value::Object(settings.as_map().clone()));
        });
        Ok(())
    }

    fn on_close() {
        log::info(format!("{VERSION}: on-close"));
    }
}

impl Command for Reload {
    fn run(args: Vec<String>) -> Result<String, String> {
        match args.first().map(String::as_str) {
            Some("answer") => Ok(format!("{}|{}|{}", VERSION, alpha(), omega())),
            Some("version") => Ok(VERSION.to_string()),
            Some("count") => Ok(counters(|c| {
                c.count += 1;
                c.count
            })
            .to_string()),
            Some("loads") => Ok(counters(|c| {
                json!({"loads": c.loads, "changes": c.changes, "settings": c.settings})
            })
            .to_string()),
            Some("config") => config::get_all()
                .map(|all| all.to_string())
                .map_err(|e| e.to_string()),
            Some("panic") => panic!("{VERSION}: asked to panic"),
            _ => Err(format!("unknown verb: {args:?}")),
        }
    }
}

fn alpha() -> String {
    format!("alpha-{VERSION}")
}

fn omega() -> String {
    format!("omega-{VERSION}")
}

plinth_pdk::export_command!(Reload);
