//! Writes a kubeconfig pointing at the simulated API server, so `kubectl` and kube-rs's
//! `Config::infer()` reach it like a real cluster.

use std::io;
use std::net::SocketAddr;
use std::path::Path;

/// The context, cluster and user names in the written kubeconfig.
pub const CONTEXT: &str = "sim";
/// The user name; the simulated RBAC denial names it (`User "meshtop" cannot …`).
pub const USER: &str = "meshtop";

/// Writes a kubeconfig with one `http://` cluster at `addr`, a bearer-token user and the
/// current context `sim` whose default namespace is `namespace`. On Unix the file is
/// created with mode 0600, as it holds the token.
pub fn write_kubeconfig(
    path: &Path,
    addr: SocketAddr,
    token: &str,
    namespace: &str,
) -> io::Result<()> {
    std::fs::write(path, render_kubeconfig(addr, token, namespace))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// The kubeconfig text. Values are JSON-quoted, which is valid YAML for any content.
fn render_kubeconfig(addr: SocketAddr, token: &str, namespace: &str) -> String {
    let quote = |s: &str| serde_json::Value::from(s).to_string();
    let server = quote(&format!("http://{addr}"));
    let token = quote(token);
    let namespace = quote(namespace);
    format!(
        "apiVersion: v1\n\
         kind: Config\n\
         clusters:\n\
         - name: {CONTEXT}\n  cluster:\n    server: {server}\n\
         contexts:\n\
         - name: {CONTEXT}\n  context:\n    cluster: {CONTEXT}\n    user: {USER}\n    namespace: {namespace}\n\
         current-context: {CONTEXT}\n\
         users:\n\
         - name: {USER}\n  user:\n    token: {token}\n\
         preferences: {{}}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_names_server_context_namespace_and_token() {
        let addr: SocketAddr = "127.0.0.1:6443".parse().unwrap();
        let text = render_kubeconfig(addr, "tok\"en", "prod");
        assert!(text.contains("    server: \"http://127.0.0.1:6443\"\n"));
        assert!(text.contains("current-context: sim\n"));
        assert!(text.contains("    namespace: \"prod\"\n"));
        assert!(text.contains("    token: \"tok\\\"en\"\n"));
    }
}
