//! The two IPC commands the UI calls: `rpc` (every API command) and `subscribe` (the
//! engine's events). Nothing else is exposed to the webview.

use std::sync::Mutex;

use rowtrail_core::api::{Api, ApiError, ServerEvent};
use serde_json::Value;
use tauri::async_runtime::JoinHandle;
use tauri::ipc::Channel;
use tauri::State;
use tokio::sync::broadcast::error::RecvError;

/// What the commands share: the engine's API over the open workspace, and the tasks that
/// forward its events to the page.
pub struct Shell {
    /// The API over the open workspace.
    pub api: Api,
    /// One forwarding task per `subscribe` call of the current page; aborted when the page
    /// (re)loads, so a reload does not leave tasks sending into a page that is gone.
    forwarders: Mutex<Vec<JoinHandle<()>>>,
}

impl Shell {
    /// The shell state over `api`.
    pub fn new(api: Api) -> Shell {
        Shell {
            api,
            forwarders: Mutex::new(Vec::new()),
        }
    }

    /// Stops forwarding events to the page (it is being replaced by a new one).
    pub fn stop_forwarding(&self) {
        if let Ok(mut f) = self.forwarders.lock() {
            for task in f.drain(..) {
                task.abort();
            }
        }
    }
}

/// Runs one API command: `command` is its name, `args` its request as JSON. Answers the
/// response as JSON or an [`ApiError`] `{code, message}`.
///
/// The arguments are never logged: they can hold passwords.
#[tauri::command]
pub async fn rpc(
    shell: State<'_, Shell>,
    command: String,
    args: Value,
) -> Result<Value, ApiError> {
    shell.api.call(&command, args).await
}

/// Forwards every [`ServerEvent`] (progress, at most ~10 a second per source, new events,
/// source states, finished tasks) to `channel` until the page goes away. A page that falls
/// too far behind gets one [`ServerEvent::Lagged`] and should refetch what it shows.
#[tauri::command]
pub fn subscribe(shell: State<'_, Shell>, channel: Channel<ServerEvent>) {
    let mut rx = shell.api.subscribe();
    let task = tauri::async_runtime::spawn(async move {
        loop {
            let ev = match rx.recv().await {
                Ok(ev) => ev,
                Err(RecvError::Lagged(missed)) => ServerEvent::Lagged { missed },
                Err(RecvError::Closed) => break,
            };
            if channel.send(ev).is_err() {
                break;
            }
        }
    });
    if let Ok(mut f) = shell.forwarders.lock() {
        f.retain(|t| !t.inner().is_finished());
        f.push(task);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error the UI receives keeps the engine's `{code, message}` shape.
    #[test]
    fn api_error_serializes_as_code_and_message() {
        let e = ApiError::bad_request("unknown command");
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["code"], "bad_request");
        assert_eq!(v["message"], "unknown command");
    }
}
