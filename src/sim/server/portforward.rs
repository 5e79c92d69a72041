//! `pods/{name}/portforward` over WebSocket, as kube-rs speaks it (TECH-NOTES §3):
//! subprotocol `v4.channel.k8s.io`; port *i* of `?ports=` gets data channel `2i` and error
//! channel `2i+1`, each opened with `[channel, port_lo, port_hi]`; then frames are
//! `[channel, payload…]`. The pod's Envoy admin port is bridged to an in-process HTTP/1.1
//! server (one connection per forward, keep-alive); any other port gets kubelet's
//! `connection refused` message on its error channel. As kubelet does, the WebSocket is
//! closed once every port's connection has ended or the client sends Close.
//! SPDY (`kubectl port-forward`) is not spoken: such requests get 400.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::ws::{
    Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection,
};
use axum::extract::{Extension, Path, Query, State};
use axum::response::{IntoResponse, Response};
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, WriteHalf};
use tokio::sync::mpsc;

use super::admin::{AdminTarget, admin_port, find_pod, serve_admin};
use super::state::{ServerState, User};
use super::status;

/// The only subprotocol offered; kube-rs also accepts `v5`, kubelet does not offer it.
const PROTOCOL: &str = "v4.channel.k8s.io";
/// Bytes buffered between the WebSocket and the in-process admin server.
const PIPE_BYTES: usize = 256 * 1024;
/// How long to wait for the client's reply to the server's Close.
const CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// What the bridge tasks tell the WebSocket writer.
enum Outbound {
    Frame(Vec<u8>),
    /// A port's connection has ended.
    Ended,
}

/// The handler: checks RBAC, the pod and the ports, then upgrades.
pub async fn handle(
    State(state): State<Arc<ServerState>>,
    Extension(user): Extension<User>,
    Path((namespace, name)): Path<(String, String)>,
    Query(pairs): Query<Vec<(String, String)>>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if state.controls().deny_portforward {
        return status::forbidden_subresource(user.name(), &namespace, &name, "portforward");
    }
    let found = find_pod(state.simulation().world(), &namespace, &name)
        .map(|p| (admin_port(p), p.uid.clone()));
    let Some((admin, uid)) = found else {
        return status::not_found("pods", &name);
    };
    let ports = match parse_ports(&pairs) {
        Ok(ports) => ports,
        Err(message) => return status::bad_request(&message),
    };
    let Ok(upgrade) = upgrade else {
        return status::bad_request(
            "port-forward needs a WebSocket upgrade with v4.channel.k8s.io (SPDY is not simulated)",
        );
    };
    let plan = ForwardPlan {
        ports,
        admin,
        refusal: format!("pod {namespace}/{name}, uid {uid}"),
    };
    let target = AdminTarget {
        state,
        namespace,
        pod: name,
    };
    upgrade
        .protocols([PROTOCOL])
        .on_upgrade(move |socket| forward(socket, plan, target))
        .into_response()
}

/// `ports=15000` or `ports=80%2C1234` (comma list), possibly repeated; 1–128 ports.
fn parse_ports(pairs: &[(String, String)]) -> Result<Vec<u16>, String> {
    let mut ports = Vec::new();
    for (_, value) in pairs.iter().filter(|(k, _)| k == "ports") {
        for part in value.split(',').map(str::trim) {
            match part.parse::<u16>() {
                Ok(port) if port > 0 => ports.push(port),
                _ => return Err(format!("invalid port {part:?}")),
            }
        }
    }
    match ports.len() {
        0 => Err("query parameter \"ports\" is required".to_string()),
        1..=128 => Ok(ports),
        n => Err(format!("at most 128 ports can be forwarded, got {n}")),
    }
}

struct ForwardPlan {
    ports: Vec<u16>,
    admin: Option<u16>,
    /// `pod prod/x, uid …` for kubelet's error message.
    refusal: String,
}

/// The port connections of one forward: the init and refusal frames to send first, the
/// admin connections' write halves by data channel, and what their pumps report.
struct Bridges {
    frames: Vec<Vec<u8>>,
    writers: HashMap<u8, WriteHalf<DuplexStream>>,
    events: mpsc::Receiver<Outbound>,
}

/// How the relay loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// The client sent Close (or vanished).
    ClientClosed,
    /// Every port's connection ended, or the server is stopping.
    ServerDone,
}

type Sink = SplitSink<WebSocket, Message>;
type Source = SplitStream<WebSocket>;

async fn forward(socket: WebSocket, plan: ForwardPlan, target: AdminTarget) {
    let (mut sink, mut source) = socket.split();
    let mut bridges = open_ports(&plan, &target);
    for frame in std::mem::take(&mut bridges.frames) {
        if sink
            .send(Message::Binary(Bytes::from(frame)))
            .await
            .is_err()
        {
            return;
        }
    }
    let ending = relay(&mut sink, &mut source, &mut bridges, &target).await;
    // EOF ends the admin connections (and so the pumps); Close tells kube-rs to stop reading.
    for writer in bridges.writers.values_mut() {
        let _ = writer.shutdown().await;
    }
    if ending == Ending::ServerDone {
        let _ = sink.send(Message::Close(None)).await;
        // Wait briefly for the client's Close reply: a clean closing handshake, not a reset.
        let reply = async {
            while let Some(Ok(message)) = source.next().await {
                if let Message::Close(_) = message {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(CLOSE_WAIT, reply).await;
    }
    // Flushes the Close reply tungstenite queued when the client closed first.
    let _ = sink.close().await;
}

/// Plans the init frames and connects the admin port to an in-process admin server.
fn open_ports(plan: &ForwardPlan, target: &AdminTarget) -> Bridges {
    let (tx, events) = mpsc::channel::<Outbound>(64);
    let mut bridges = Bridges {
        frames: Vec::new(),
        writers: HashMap::new(),
        events,
    };
    for (index, &port) in plan.ports.iter().enumerate() {
        let (data, error) = channels(index);
        let [lo, hi] = port.to_le_bytes();
        bridges.frames.push(vec![data, lo, hi]);
        bridges.frames.push(vec![error, lo, hi]);
        if plan.admin == Some(port) {
            let (ours, theirs) = tokio::io::duplex(PIPE_BYTES);
            tokio::spawn(serve_admin(theirs, target.clone()));
            let (reader, writer) = tokio::io::split(ours);
            bridges.writers.insert(data, writer);
            tokio::spawn(pump(reader, data, tx.clone()));
        } else {
            let message = format!(
                "error forwarding port {port} to {}: failed to connect to localhost:{port} inside \
                 the pod: dial tcp4 127.0.0.1:{port}: connect: connection refused",
                plan.refusal
            );
            bridges
                .frames
                .push([&[error][..], message.as_bytes()].concat());
        }
    }
    bridges
}

/// Moves bytes both ways until the client closes or no port is connected any more.
async fn relay(
    sink: &mut Sink,
    source: &mut Source,
    bridges: &mut Bridges,
    target: &AdminTarget,
) -> Ending {
    let mut open = bridges.writers.len();
    while open > 0 {
        tokio::select! {
            incoming = source.next() => match incoming {
                Some(Ok(Message::Binary(frame))) => deliver(&mut bridges.writers, &frame).await,
                Some(Ok(Message::Close(_)) | Err(_)) | None => return Ending::ClientClosed,
                Some(Ok(_)) => {}
            },
            outbound = bridges.events.recv() => match outbound {
                Some(Outbound::Frame(frame)) => {
                    if sink.send(Message::Binary(Bytes::from(frame))).await.is_err() {
                        return Ending::ClientClosed;
                    }
                }
                Some(Outbound::Ended) => open -= 1,
                None => break,
            },
            () = target.state.stopped() => break,
        }
    }
    Ending::ServerDone
}

/// The data and error channel numbers of the port at `index` (< 128, so both fit a byte).
fn channels(index: usize) -> (u8, u8) {
    let data = u8::try_from(index * 2).unwrap_or(u8::MAX - 1);
    (data, data + 1)
}

/// Writes a client frame's payload to its port's connection; frames of ≤ 1 byte and
/// frames for unknown channels are ignored, as kube-rs does on its side.
async fn deliver(writers: &mut HashMap<u8, WriteHalf<DuplexStream>>, frame: &[u8]) {
    let Some((&channel, payload)) = frame.split_first() else {
        return;
    };
    if payload.is_empty() {
        return;
    }
    if let Some(writer) = writers.get_mut(&channel)
        && writer.write_all(payload).await.is_err()
    {
        writers.remove(&channel);
    }
}

/// Copies what the admin server writes into data frames until it closes the connection.
async fn pump(
    mut reader: tokio::io::ReadHalf<DuplexStream>,
    channel: u8,
    tx: mpsc::Sender<Outbound>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let frame = [&[channel][..], buf.get(..n).unwrap_or_default()].concat();
                if tx.send(Outbound::Frame(frame)).await.is_err() {
                    return;
                }
            }
        }
    }
    let _ = tx.send(Outbound::Ended).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn ports_parse_from_comma_lists_and_repeats() {
        assert_eq!(parse_ports(&pairs(&[("ports", "15000")])), Ok(vec![15000]));
        assert_eq!(
            parse_ports(&pairs(&[("ports", "80,1234"), ("ports", "9")])),
            Ok(vec![80, 1234, 9])
        );
        assert!(parse_ports(&pairs(&[])).is_err());
        assert!(parse_ports(&pairs(&[("ports", "x")])).is_err());
        assert!(parse_ports(&pairs(&[("ports", "0")])).is_err());
    }

    #[test]
    fn channels_pair_data_and_error() {
        assert_eq!(channels(0), (0, 1));
        assert_eq!(channels(3), (6, 7));
        assert_eq!(channels(127), (254, 255));
    }
}
