"""Chat writes: `conversations` (the web app's conversations and sends) and `calls` (a model
call's lifecycle, which /v1 shares). Reads are in chat.selectors."""
