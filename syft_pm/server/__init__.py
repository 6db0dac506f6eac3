"""The Jupyter server extension: REST + websocket over the shared registry and watcher."""
