-- A TOTP secret being set up now lives in the session that set it up (for 15 minutes), not in
-- users.totp_secret, which holds only the secret of enabled two-step sign-in. Secrets of set-ups
-- never finished are removed.
update users set totp_secret = null where totp_enabled_at is null;
