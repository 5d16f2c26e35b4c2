-- pgcrypto hashes partner keys, agent secrets and member PINs; nothing secret is stored in plain text.
CREATE EXTENSION IF NOT EXISTS pgcrypto;
