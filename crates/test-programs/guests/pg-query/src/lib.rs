//! `pg-query`: a PostgreSQL data source as a `tool`, over `wasi:sockets` TCP.
//!
//! The client is `pg-wire` (`postgres-protocol` messages over std's `TcpStream`, which
//! `wasm32-wasip2` implements with `wasi:sockets`).
//!
//! - `query` `{"host", "port", "user", "password"?, "database"?, "sql"}` →
//!   `{"columns": [..], "rows": [[text or null, ..], ..], "command": "SELECT 2"}`;
//! - `connect_many` `{"host", "port", "count"}` opens `count` connections and holds them
//!   until the call ends → `{"opened": n, "error": text or null}`;
//! - `udp` `{}` → `{"error": text or null}` from binding a UDP socket;
//! - `listen` `{}` → `{"error": text or null}` from listening on a TCP port.

use std::net::{TcpListener, TcpStream, UdpSocket};

use plinth_pdk::prelude::*;

struct PgQuery;

impl Plugin for PgQuery {}

fn object(properties: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": properties, "required": required})
}

fn connection_properties(extra: Value) -> Value {
    let mut props = json!({
        "host": {"type": "string"},
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
    });
    if let (Some(props), Some(extra)) = (props.as_object_mut(), extra.as_object()) {
        props.extend(extra.clone());
    }
    props
}

impl Tool for PgQuery {
    fn tools() -> Vec<ToolInfo> {
        vec![
            ToolInfo::new(
                "query",
                "Runs SQL on a PostgreSQL server and returns the rows.",
                object(
                    connection_properties(json!({
                        "user": {"type": "string"},
                        "password": {"type": "string"},
                        "database": {"type": "string"},
                        "sql": {"type": "string"},
                    })),
                    &["host", "port", "user", "sql"],
                ),
            ),
            ToolInfo::new(
                "connect_many",
                "Opens `count` TCP connections and holds them for the call.",
                object(
                    connection_properties(json!({"count": {"type": "integer", "minimum": 0}})),
                    &["host", "port", "count"],
                ),
            ),
            ToolInfo::new("udp", "Binds a UDP socket.", object(json!({}), &[])),
            ToolInfo::new("listen", "Listens on a TCP port.", object(json!({}), &[])),
        ]
    }

    fn call(name: &str, input: Value) -> Result<Value, ToolError> {
        match name {
            "query" => query(&input),
            "connect_many" => connect_many(&input),
            "udp" => {
                Ok(json!({"error": UdpSocket::bind("0.0.0.0:0").err().map(|e| e.to_string())}))
            }
            "listen" => {
                Ok(json!({"error": TcpListener::bind("127.0.0.1:0").err().map(|e| e.to_string())}))
            }
            other => Err(ToolError::UnknownTool(other.to_string())),
        }
    }
}

fn text<'a>(input: &'a Value, key: &str) -> Option<&'a str> {
    input.get(key).and_then(Value::as_str)
}

fn address(input: &Value) -> Result<String, ToolError> {
    let host = text(input, "host").ok_or_else(|| invalid("`host` is required"))?;
    let port = input
        .get("port")
        .and_then(Value::as_u64)
        .ok_or_else(|| invalid("`port` is required"))?;
    Ok(format!("{host}:{port}"))
}

fn invalid(message: &str) -> ToolError {
    ToolError::InvalidInput(message.to_string())
}

fn connect_many(input: &Value) -> Result<Value, ToolError> {
    let address = address(input)?;
    let count = input.get("count").and_then(Value::as_u64).unwrap_or(0);
    let mut held = Vec::new();
    let mut error = None;
    for _ in 0..count {
        match TcpStream::connect(&address) {
            Ok(stream) => held.push(stream),
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
    }
    Ok(json!({"opened": held.len(), "error": error}))
}

fn query(input: &Value) -> Result<Value, ToolError> {
    let address = address(input)?;
    let user = text(input, "user").ok_or_else(|| invalid("`user` is required"))?;
    let sql = text(input, "sql").ok_or_else(|| invalid("`sql` is required"))?;
    let target = pg_wire::Target {
        address: &address,
        user,
        password: text(input, "password").unwrap_or_default(),
        database: text(input, "database").unwrap_or(user),
    };
    let answer = pg_wire::query(&target, sql).map_err(|e| ToolError::Failed(e.to_string()))?;
    Ok(json!({"columns": answer.columns, "rows": answer.rows, "command": answer.command}))
}

plinth_pdk::export!(PgQuery: tool);
